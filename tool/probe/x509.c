/*
 * x509.c -- the read-only DER certificate decoder declared in x509.h.
 *
 * Implementation notes
 * --------------------
 * Cursors.  Every byte of the certificate is read through a tf_rd
 * (tool/codec/bytes.h) or through the DER helpers built on it
 * (tool/codec/der.h, whose cursor rules apply here); nothing indexes `der`
 * directly.  In addition:
 *
 *   - Every parse function returns 0 or -1 and returns at the first -1 of a
 *     callee; the top level then zeroes the result.  There is no partial
 *     success: a certificate is either fully well-formed or rejected.
 *
 * Strictness.  The outer structure is strict (the certificate must fill the
 * buffer exactly, every SEQUENCE must be consumed to its end, the key bodies
 * of known algorithms must decode, times must be UTC "Z" with valid ranges);
 * fields this decoder does not report (the version, unique IDs, the
 * GeneralName kinds other than dNSName) need only be well-formed TLVs, and
 * the values of unknown extensions and parameters of unknown algorithms are
 * not looked into.  Non-minimal DER lengths are accepted: reporting a sloppy
 * certificate beats refusing it.
 *
 * Keys.  key_bits of an EC key on an unknown curve (or with explicit
 * parameters) is guessed from the encoded point's size; a DSA key whose
 * parameters are inherited (absent) has key_bits 0.  sig_hash may also be
 * "md5", "sha3-256", ... or "sm3" for the less common algorithms.
 *
 * Strings.  Output strings are built with sbuf, which appends whole pieces
 * or nothing: once a piece does not fit the string is frozen, so a truncated
 * string never ends inside an escape sequence.  A truncated name ends on a
 * whole RDN, unless its first RDN alone is too long.
 *
 * Names.  RFC 4514 writes the RDNs last first.  name_str() makes a first pass
 * that checks every RDN (formatting into a zero-capacity sink), remembering
 * the last NAME_MAX_RDN of them in a ring, then formats those in reverse.
 * Values: printable ASCII kept (RFC 4514 specials backslash-escaped), other
 * bytes as \xx; BMPString/UniversalString characters are converted to UTF-8
 * and then escaped the same way; values that are not strings become "#" and
 * the hex of their whole TLV, as RFC 4514 prescribes.
 */
#include "x509.h"
#include "inner.h"
#include "der.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* DER tags met in certificates. */
enum {
    T_BOOL = 0x01, T_INT = 0x02, T_BITSTR = 0x03, T_OCTSTR = 0x04, T_NULL = 0x05, T_OID = 0x06,
    T_UTF8 = 0x0C, T_NUMERIC = 0x12, T_PRINTABLE = 0x13, T_T61 = 0x14, T_IA5 = 0x16,
    T_UTCTIME = 0x17, T_GENTIME = 0x18, T_VISIBLE = 0x1A, T_UNIVERSAL = 0x1C, T_BMP = 0x1E,
    T_SEQ = 0x30, T_SET = 0x31,
    T_CTX0 = 0xA0,          /* [0] constructed: version, PSS hashAlgorithm */
    T_CTX3 = 0xA3,          /* [3] constructed: extensions */
    T_ISSUER_UID = 0x81,    /* [1] IMPLICIT BIT STRING */
    T_SUBJECT_UID = 0x82,   /* [2] IMPLICIT BIT STRING */
    T_KEYID = 0x80,         /* AuthorityKeyIdentifier [0] IMPLICIT keyIdentifier */
    T_DNSNAME = 0x82        /* GeneralName [2] IMPLICIT IA5String */
};

#define TAG_ABSENT (-2)     /* read_params(): no parameters */
#define NAME_MAX_RDN 128    /* RDNs formatted; 511 characters hold fewer anyway */
#define NAME_MAX_CHARS sizeof(((tf_cert *)0)->subject)  /* longest name string */
#define OID_RSASSA_PSS "1.2.840.113549.1.1.10"

/* ---- cursor helpers (built on tf_rd and der.h) ---------------------------------- */

/* Reads a BIT STRING without unused bits; `bits` covers its bytes. */
static int read_bits(tf_rd *r, tf_rd *bits)
{
    if (tf_der_expect(r, T_BITSTR, bits) || tf_rd_u8(bits) != 0 || bits->bad) return -1;
    return 0;
}

/* Reads the optional parameters ending an AlgorithmIdentifier. */
static int read_params(tf_rd *alg, int *tag, tf_rd *params)
{
    *tag = TAG_ABSENT;
    tf_rd_init(params, "", 0);
    if (tf_rd_done(alg)) return alg->bad ? -1 : 0;
    *tag = tf_der_next(alg, params);
    return *tag < 0 || !tf_rd_clean_end(alg) ? -1 : 0;
}

/* Copies up to `cap` bytes of `src`; returns how many. */
static size_t copy_bytes(uint8_t *dst, size_t cap, tf_rd *src)
{
    size_t n = tf_rd_left(src) < cap ? tf_rd_left(src) : cap;
    const uint8_t *p = tf_rd_bytes(src, n);
    if (!p) return 0;
    if (n) memcpy(dst, p, n);
    return n;
}

/* Bit length of an INTEGER's magnitude, leading zero bytes ignored. */
static unsigned int_bits(tf_rd *v)
{
    uint32_t top = 0;
    size_t rest;
    unsigned bits = 0;
    while (!tf_rd_done(v) && (top = tf_rd_u8(v)) == 0)
        ;
    if (top == 0) return 0;
    rest = tf_rd_left(v);
    if (rest > (UINT_MAX - 8) / 8) return UINT_MAX;
    for (; top; top >>= 1) bits++;
    return bits + 8 * (unsigned)rest;
}

/* ---- bounded strings --------------------------------------------------------- */

typedef struct {
    char *s;
    size_t cap;
    size_t len;     /* always < cap when cap > 0; s[len] == '\0' */
    int full;       /* a piece did not fit: append nothing more */
} sbuf;

static void sb_init(sbuf *b, char *s, size_t cap)
{
    b->s = s; b->cap = cap; b->len = 0; b->full = 0;
    if (cap) s[0] = '\0';
}

/* Appends n bytes as one piece, or nothing (and freezes the string). */
static void sb_put(sbuf *b, const char *p, size_t n)
{
    if (b->full || n >= b->cap - b->len) { b->full = 1; return; }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_hex(sbuf *b, const char *prefix, uint32_t byte)
{
    char t[8];
    snprintf(t, sizeof t, "%s%02x", prefix, (unsigned)(byte & 0xFF));
    sb_str(b, t);
}

/* Sets a fixed-size string field, truncating. */
static void set_str(char *dst, size_t cap, const char *src)
{
    sbuf b;
    size_t n = strlen(src);
    sb_init(&b, dst, cap);
    sb_put(&b, src, n < cap ? n : cap - 1);
}
#define SET_STR(field, src) set_str((field), sizeof(field), (src))

/* Copies an ASCII string value, replacing non-printable bytes with '?'. */
static void copy_ascii(char *dst, size_t cap, tf_rd *src)
{
    sbuf b;
    sb_init(&b, dst, cap);
    while (!tf_rd_done(src)) {
        uint32_t byte = tf_rd_u8(src);
        char ch = byte < 0x20 || byte > 0x7E ? '?' : (char)byte;
        sb_put(&b, &ch, 1);
    }
}

/* ---- object identifiers ------------------------------------------------------ */

/* Writes the dotted form of an OID's contents; -1 when empty, unterminated
   or with an arc beyond 64 bits. */
static int oid_str(tf_rd *oid, char *out, size_t cap)
{
    sbuf b;
    uint64_t arc = 0;
    int first = 1, open = 0;
    char t[32];
    sb_init(&b, out, cap);
    if (tf_rd_done(oid)) return -1;
    while (!tf_rd_done(oid)) {
        uint32_t byte = tf_rd_u8(oid);
        if (arc >> 57) return -1;
        arc = (arc << 7) | (byte & 0x7F);
        open = (byte & 0x80) != 0;
        if (open) continue;
        if (first)
            snprintf(t, sizeof t, "%u.%llu", arc < 80 ? (unsigned)(arc / 40) : 2u,
                     (unsigned long long)(arc < 80 ? arc % 40 : arc - 80));
        else
            snprintf(t, sizeof t, ".%llu", (unsigned long long)arc);
        sb_str(&b, t);
        arc = 0;
        first = 0;
    }
    return open || oid->bad ? -1 : 0;
}

typedef struct {
    const char *oid;
    const char *name;
    const char *aux;    /* signatures: the hash */
    unsigned bits;      /* curves and fixed-size keys */
} oid_entry;

static const oid_entry *oid_find(const oid_entry *t, size_t n, const char *oid)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(t[i].oid, oid) == 0) return &t[i];
    return NULL;
}
#define OID_FIND(table, oid) oid_find((table), TF_ARRAY_LEN(table), (oid))

static const oid_entry attr_types[] = {
    { "2.5.4.3", "CN", NULL, 0 },
    { "2.5.4.4", "SN", NULL, 0 },
    { "2.5.4.5", "serialNumber", NULL, 0 },
    { "2.5.4.6", "C", NULL, 0 },
    { "2.5.4.7", "L", NULL, 0 },
    { "2.5.4.8", "ST", NULL, 0 },
    { "2.5.4.9", "STREET", NULL, 0 },
    { "2.5.4.10", "O", NULL, 0 },
    { "2.5.4.11", "OU", NULL, 0 },
    { "2.5.4.12", "title", NULL, 0 },
    { "2.5.4.13", "description", NULL, 0 },
    { "2.5.4.15", "businessCategory", NULL, 0 },
    { "2.5.4.17", "postalCode", NULL, 0 },
    { "2.5.4.41", "name", NULL, 0 },
    { "2.5.4.42", "GN", NULL, 0 },
    { "2.5.4.43", "initials", NULL, 0 },
    { "2.5.4.44", "generationQualifier", NULL, 0 },
    { "2.5.4.46", "dnQualifier", NULL, 0 },
    { "2.5.4.65", "pseudonym", NULL, 0 },
    { "2.5.4.97", "organizationIdentifier", NULL, 0 },
    { "0.9.2342.19200300.100.1.1", "UID", NULL, 0 },
    { "0.9.2342.19200300.100.1.25", "DC", NULL, 0 },
    { "1.2.840.113549.1.9.1", "emailAddress", NULL, 0 },
    { "1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL", NULL, 0 },
    { "1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST", NULL, 0 },
    { "1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC", NULL, 0 },
};

/* Key algorithms; `bits` is the size of fixed-size keys. */
static const oid_entry key_types[] = {
    { "1.2.840.113549.1.1.1", "rsa", NULL, 0 },
    { OID_RSASSA_PSS, "rsa-pss", NULL, 0 },
    { "1.2.840.10045.2.1", "ec", NULL, 0 },
    { "1.3.132.1.12", "ec", NULL, 0 },          /* id-ecDH (RFC 5480) */
    { "1.2.840.10040.4.1", "dsa", NULL, 0 },
    { "1.3.101.110", "x25519", NULL, 255 },
    { "1.3.101.111", "x448", NULL, 448 },
    { "1.3.101.112", "ed25519", NULL, 255 },
    { "1.3.101.113", "ed448", NULL, 448 },
};

static const oid_entry curves[] = {
    { "1.2.840.10045.3.1.7", "secp256r1", NULL, 256 },
    { "1.3.132.0.34", "secp384r1", NULL, 384 },
    { "1.3.132.0.35", "secp521r1", NULL, 521 },
    { "1.3.132.0.33", "secp224r1", NULL, 224 },
    { "1.2.840.10045.3.1.1", "secp192r1", NULL, 192 },
    { "1.3.132.0.10", "secp256k1", NULL, 256 },
    { "1.3.36.3.3.2.8.1.1.5", "brainpoolP224r1", NULL, 224 },
    { "1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1", NULL, 256 },
    { "1.3.36.3.3.2.8.1.1.9", "brainpoolP320r1", NULL, 320 },
    { "1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1", NULL, 384 },
    { "1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1", NULL, 512 },
    { "1.2.156.10197.1.301", "sm2", NULL, 256 },
};

/* Signature algorithms: name and hash (rsassaPss: read from its parameters). */
static const oid_entry sig_algs[] = {
    { "1.2.840.113549.1.1.4", "md5WithRSAEncryption", "md5", 0 },
    { "1.2.840.113549.1.1.5", "sha1WithRSAEncryption", "sha1", 0 },
    { "1.2.840.113549.1.1.14", "sha224WithRSAEncryption", "sha224", 0 },
    { "1.2.840.113549.1.1.11", "sha256WithRSAEncryption", "sha256", 0 },
    { "1.2.840.113549.1.1.12", "sha384WithRSAEncryption", "sha384", 0 },
    { "1.2.840.113549.1.1.13", "sha512WithRSAEncryption", "sha512", 0 },
    { OID_RSASSA_PSS, "rsassaPss", NULL, 0 },
    { "1.2.840.10045.4.1", "ecdsa-with-SHA1", "sha1", 0 },
    { "1.2.840.10045.4.3.1", "ecdsa-with-SHA224", "sha224", 0 },
    { "1.2.840.10045.4.3.2", "ecdsa-with-SHA256", "sha256", 0 },
    { "1.2.840.10045.4.3.3", "ecdsa-with-SHA384", "sha384", 0 },
    { "1.2.840.10045.4.3.4", "ecdsa-with-SHA512", "sha512", 0 },
    { "1.3.101.112", "ED25519", "", 0 },
    { "1.3.101.113", "ED448", "", 0 },
    { "1.2.840.10040.4.3", "dsa-with-SHA1", "sha1", 0 },
    { "2.16.840.1.101.3.4.3.1", "dsa-with-SHA224", "sha224", 0 },
    { "2.16.840.1.101.3.4.3.2", "dsa-with-SHA256", "sha256", 0 },
    { "2.16.840.1.101.3.4.3.3", "dsa-with-SHA384", "sha384", 0 },
    { "2.16.840.1.101.3.4.3.4", "dsa-with-SHA512", "sha512", 0 },
    { "2.16.840.1.101.3.4.3.9", "ecdsa-with-SHA3-224", "sha3-224", 0 },
    { "2.16.840.1.101.3.4.3.10", "ecdsa-with-SHA3-256", "sha3-256", 0 },
    { "2.16.840.1.101.3.4.3.11", "ecdsa-with-SHA3-384", "sha3-384", 0 },
    { "2.16.840.1.101.3.4.3.12", "ecdsa-with-SHA3-512", "sha3-512", 0 },
    { "2.16.840.1.101.3.4.3.13", "id-rsassa-pkcs1-v1_5-with-sha3-224", "sha3-224", 0 },
    { "2.16.840.1.101.3.4.3.14", "id-rsassa-pkcs1-v1_5-with-sha3-256", "sha3-256", 0 },
    { "2.16.840.1.101.3.4.3.15", "id-rsassa-pkcs1-v1_5-with-sha3-384", "sha3-384", 0 },
    { "2.16.840.1.101.3.4.3.16", "id-rsassa-pkcs1-v1_5-with-sha3-512", "sha3-512", 0 },
    { "1.2.156.10197.1.501", "SM2-with-SM3", "sm3", 0 },
};

static const oid_entry hashes[] = {
    { "1.2.840.113549.2.5", "md5", NULL, 0 },
    { "1.3.14.3.2.26", "sha1", NULL, 0 },
    { "2.16.840.1.101.3.4.2.4", "sha224", NULL, 0 },
    { "2.16.840.1.101.3.4.2.1", "sha256", NULL, 0 },
    { "2.16.840.1.101.3.4.2.2", "sha384", NULL, 0 },
    { "2.16.840.1.101.3.4.2.3", "sha512", NULL, 0 },
    { "2.16.840.1.101.3.4.2.5", "sha512-224", NULL, 0 },
    { "2.16.840.1.101.3.4.2.6", "sha512-256", NULL, 0 },
    { "2.16.840.1.101.3.4.2.7", "sha3-224", NULL, 0 },
    { "2.16.840.1.101.3.4.2.8", "sha3-256", NULL, 0 },
    { "2.16.840.1.101.3.4.2.9", "sha3-384", NULL, 0 },
    { "2.16.840.1.101.3.4.2.10", "sha3-512", NULL, 0 },
};

/* ---- distinguished names ----------------------------------------------------- */

/* Appends one value byte: printable ASCII (RFC 4514 specials escaped) or \xx. */
static void put_value_byte(sbuf *b, uint32_t ch, int first, int last)
{
    char t[3] = { '\\', (char)ch, '\0' };
    if (ch < 0x20 || ch > 0x7E) sb_hex(b, "\\", ch);
    else if (strchr("\",+;<>\\", (int)ch) || (first && (ch == '#' || ch == ' ')) || (last && ch == ' '))
        sb_str(b, t);
    else
        sb_str(b, t + 1);
}

/* Appends one character of a BMPString/UniversalString, as escaped UTF-8. */
static void put_value_char(sbuf *b, uint32_t cp, int first, int last)
{
    uint8_t u[4];
    size_t n, i;
    if (cp < 0x80) { put_value_byte(b, cp, first, last); return; }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) { sb_str(b, "?"); return; }
    if (cp < 0x800) { u[0] = (uint8_t)(0xC0 | cp >> 6); n = 2; }
    else if (cp < 0x10000) { u[0] = (uint8_t)(0xE0 | cp >> 12); n = 3; }
    else { u[0] = (uint8_t)(0xF0 | cp >> 18); n = 4; }
    for (i = 1; i < n; i++) u[i] = (uint8_t)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3F));
    for (i = 0; i < n; i++) sb_hex(b, "\\", u[i]);
}

/* Bytes per character of the string types shown as text; 0 for other types. */
static size_t char_width(int tag)
{
    switch (tag) {
    case T_UTF8: case T_NUMERIC: case T_PRINTABLE: case T_T61: case T_IA5: case T_VISIBLE:
        return 1;
    case T_BMP:
        return 2;
    case T_UNIVERSAL:
        return 4;
    default:
        return 0;
    }
}

/* Appends "#" and the hex of a whole TLV (RFC 4514 form for non-strings). */
static void put_value_hex(sbuf *b, tf_rd *tlv)
{
    sb_str(b, "#");
    while (!tf_rd_done(tlv)) sb_hex(b, "", tf_rd_u8(tlv));
}

/* Appends an AttributeValue read from `atv`. */
static int put_value(sbuf *b, tf_rd *atv)
{
    tf_rd start = *atv, v, whole;
    int tag = tf_der_next(atv, &v), first = 1;
    size_t width = tag < 0 ? 0 : char_width(tag);
    if (tag < 0) return -1;
    if (width == 0) {
        tf_rd_init(&whole, tf_rd_bytes(&start, atv->off - start.off), atv->off - start.off);
        put_value_hex(b, &whole);
        return 0;
    }
    if (tf_rd_left(&v) % width) return -1;
    for (; !tf_rd_done(&v); first = 0) {
        uint32_t ch = width == 1 ? tf_rd_u8(&v) : width == 2 ? tf_rd_u16(&v) : tf_rd_u32(&v);
        if (width == 1) put_value_byte(b, ch, first, tf_rd_done(&v));
        else put_value_char(b, ch, first, tf_rd_done(&v));
    }
    return 0;
}

/* Appends one AttributeTypeAndValue ("CN=value") read from an RDN's SET. */
static int put_atv(sbuf *b, tf_rd *set)
{
    tf_rd atv, oid;
    char type[64];
    const oid_entry *e;
    if (tf_der_expect(set, T_SEQ, &atv) || tf_der_expect(&atv, T_OID, &oid) || oid_str(&oid, type, sizeof type))
        return -1;
    e = OID_FIND(attr_types, type);
    sb_str(b, e ? e->name : type);
    sb_str(b, "=");
    return put_value(b, &atv) || !tf_rd_clean_end(&atv) ? -1 : 0;
}

/* Appends one RDN (its attributes joined by '+'); `set` is taken by value. */
static int put_rdn(sbuf *b, tf_rd set)
{
    int first = 1;
    if (tf_rd_done(&set)) return -1;  /* an RDN holds at least one attribute */
    for (; !tf_rd_done(&set); first = 0) {
        if (!first) sb_str(b, "+");
        if (put_atv(b, &set)) return -1;
    }
    return 0;
}

/* Appends ",RDN" as one piece, so that a truncated name ends on a whole RDN. */
static void put_next_rdn(sbuf *b, tf_rd set)
{
    char tmp[NAME_MAX_CHARS];
    sbuf piece;
    sb_init(&piece, tmp, sizeof tmp);
    sb_str(&piece, ",");
    (void)put_rdn(&piece, set);
    if (piece.full) b->full = 1;
    else sb_put(b, tmp, piece.len);
}

/* Formats a Name (whole TLV) in RFC 4514 order: last RDN first. */
static int name_str(const uint8_t *der, size_t len, char *out, size_t cap)
{
    tf_rd r, name, set, ring[NAME_MAX_RDN];
    sbuf sink, b;
    size_t n = 0, i;
    tf_rd_init(&r, der, len);
    sb_init(&sink, NULL, 0);
    if (tf_der_expect(&r, T_SEQ, &name)) return -1;
    while (!tf_rd_done(&name)) {
        if (tf_der_expect(&name, T_SET, &set) || put_rdn(&sink, set)) return -1;
        ring[n++ % NAME_MAX_RDN] = set;
    }
    sb_init(&b, out, cap);
    for (i = n; i > 0 && n - i < NAME_MAX_RDN && !b.full; i--) {
        if (i == n) (void)put_rdn(&b, ring[(i - 1) % NAME_MAX_RDN]);  /* the first may be cut */
        else put_next_rdn(&b, ring[(i - 1) % NAME_MAX_RDN]);
    }
    return 0;
}

/* Reads a Name, keeping its DER and its string form. */
static int read_name(tf_rd *tbs, const uint8_t **der, size_t *len, char *out, size_t cap)
{
    tf_rd body;
    if (tf_der_expect_whole(tbs, T_SEQ, &body, der, len)) return -1;
    return name_str(*der, *len, out, cap);
}

/* ---- serial number and validity ------------------------------------------------ */

static int read_serial(tf_cert *c, tf_rd *tbs)
{
    tf_rd v;
    sbuf b;
    int lead = 1;
    if (tf_der_expect(tbs, T_INT, &v) || tf_rd_done(&v)) return -1;
    sb_init(&b, c->serial_hex, 65);  /* 64 digits */
    while (!tf_rd_done(&v)) {
        uint32_t byte = tf_rd_u8(&v);
        if (lead && byte == 0 && !tf_rd_done(&v)) continue;  /* sign padding */
        lead = 0;
        sb_hex(&b, "", byte);
    }
    return 0;
}

/* Reads n ASCII digits into d. */
static int read_digits(tf_rd *t, char *d, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t ch = tf_rd_u8(t);
        if (t->bad || ch < '0' || ch > '9') return -1;
        d[i] = (char)ch;
    }
    return 0;
}

/* Skips the fractional seconds a GeneralizedTime may carry (".123"). */
static int skip_fraction(tf_rd *t)
{
    char d;
    if (tf_rd_peek(t) != '.') return 0;
    tf_rd_skip(t, 1);
    if (read_digits(t, &d, 1)) return -1;
    while (tf_rd_peek(t) >= '0' && tf_rd_peek(t) <= '9') tf_rd_skip(t, 1);
    return 0;
}

static int two_digits(const char *d) { return (d[0] - '0') * 10 + (d[1] - '0'); }

/* Reads a UTCTime or GeneralizedTime (UTC, "Z") as "YYYY-MM-DDTHH:MM:SSZ". */
static int read_time(tf_rd *r, char *out, size_t cap)
{
    tf_rd t;
    char d[14];  /* YYYYMMDDHHMMSS */
    int tag = tf_der_next(r, &t);
    if (tag == T_UTCTIME) {
        if (read_digits(&t, d + 2, 12)) return -1;
        memcpy(d, two_digits(d + 2) >= 50 ? "19" : "20", 2);  /* RFC 5280 4.1.2.5.1 */
    } else if (tag == T_GENTIME) {
        if (read_digits(&t, d, 14) || skip_fraction(&t)) return -1;
    } else {
        return -1;
    }
    if (tf_rd_u8(&t) != 'Z' || !tf_rd_clean_end(&t)) return -1;
    if (two_digits(d + 4) < 1 || two_digits(d + 4) > 12 || two_digits(d + 6) < 1 || two_digits(d + 6) > 31 ||
        two_digits(d + 8) > 23 || two_digits(d + 10) > 59 || two_digits(d + 12) > 60)
        return -1;
    snprintf(out, cap, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", d, d + 4, d + 6, d + 8, d + 10, d + 12);
    return 0;
}

static int read_validity(tf_cert *c, tf_rd *tbs)
{
    tf_rd v;
    if (tf_der_expect(tbs, T_SEQ, &v) || read_time(&v, c->not_before, sizeof c->not_before) ||
        read_time(&v, c->not_after, sizeof c->not_after))
        return -1;
    return tf_rd_clean_end(&v) ? 0 : -1;
}

/* ---- subject public key ----------------------------------------------------- */

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
static int rsa_key(tf_cert *c, tf_rd *key)
{
    tf_rd seq, n, e;
    if (tf_der_expect(key, T_SEQ, &seq) || tf_der_expect(&seq, T_INT, &n) || tf_der_expect(&seq, T_INT, &e) ||
        !tf_rd_clean_end(&seq) || !tf_rd_clean_end(key))
        return -1;
    c->key_bits = int_bits(&n);
    return c->key_bits ? 0 : -1;
}

/* Field size guessed from an EC point's encoding (unknown curves only). */
static unsigned point_bits(tf_rd *point)
{
    uint32_t form = tf_rd_u8(point);
    size_t n = tf_rd_left(point);
    if (point->bad || n > 1024) return 0;
    if (form == 0x04) return (unsigned)(n / 2 * 8);
    if (form == 0x02 || form == 0x03) return (unsigned)(n * 8);
    return 0;
}

/* ECParameters: namedCurve OID, or explicit / implicit parameters. */
static int ec_key(tf_cert *c, int ptag, tf_rd *params, tf_rd *point)
{
    const oid_entry *e;
    if (ptag != T_OID) {
        SET_STR(c->curve, ptag == T_SEQ ? "explicit" : "implicit");
    } else {
        if (oid_str(params, c->curve, sizeof c->curve)) return -1;
        e = OID_FIND(curves, c->curve);
        if (e) {
            SET_STR(c->curve, e->name);
            c->key_bits = e->bits;
            return 0;
        }
    }
    c->key_bits = point_bits(point);
    return 0;
}

/* Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER } (may be absent). */
static int dsa_key(tf_cert *c, int ptag, tf_rd *params)
{
    tf_rd p, q, g;
    if (ptag != T_SEQ) return 0;
    if (tf_der_expect(params, T_INT, &p) || tf_der_expect(params, T_INT, &q) || tf_der_expect(params, T_INT, &g) ||
        !tf_rd_clean_end(params))
        return -1;
    c->key_bits = int_bits(&p);
    return 0;
}

static int read_spki(tf_cert *c, tf_rd *tbs)
{
    tf_rd spki, alg, oid, params, key;
    int ptag;
    const oid_entry *e;
    if (tf_der_expect_whole(tbs, T_SEQ, &spki, &c->spki_der, &c->spki_der_len) || tf_der_expect(&spki, T_SEQ, &alg) || tf_der_expect(&alg, T_OID, &oid) ||
        oid_str(&oid, c->key_oid, sizeof c->key_oid) || read_params(&alg, &ptag, &params) ||
        read_bits(&spki, &key) || !tf_rd_clean_end(&spki))
        return -1;
    e = OID_FIND(key_types, c->key_oid);
    SET_STR(c->key_type, e ? e->name : "unknown");
    if (!e) return 0;
    c->key_bits = e->bits;
    if (strcmp(e->name, "rsa") == 0 || strcmp(e->name, "rsa-pss") == 0) return rsa_key(c, &key);
    if (strcmp(e->name, "ec") == 0) return ec_key(c, ptag, &params, &key);
    if (strcmp(e->name, "dsa") == 0) return dsa_key(c, ptag, &params);
    return 0;
}

/* ---- signature algorithm ----------------------------------------------------- */

/* RSASSA-PSS-params: hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1. */
static int pss_hash(tf_cert *c, int ptag, tf_rd *params)
{
    tf_rd wrap, alg, oid;
    char id[64];
    const oid_entry *e;
    SET_STR(c->sig_hash, "sha1");
    if (ptag != T_SEQ || tf_der_peek(params) != T_CTX0) return 0;
    if (tf_der_expect(params, T_CTX0, &wrap) || tf_der_expect(&wrap, T_SEQ, &alg) || !tf_rd_clean_end(&wrap) ||
        tf_der_expect(&alg, T_OID, &oid) || oid_str(&oid, id, sizeof id))
        return -1;
    e = OID_FIND(hashes, id);
    SET_STR(c->sig_hash, e ? e->name : "unknown");
    return 0;
}

static int read_sig_alg(tf_cert *c, tf_rd *cert)
{
    tf_rd alg, oid, params;
    int ptag;
    const oid_entry *e;
    if (tf_der_expect(cert, T_SEQ, &alg) || tf_der_expect(&alg, T_OID, &oid) ||
        oid_str(&oid, c->sig_oid, sizeof c->sig_oid) || read_params(&alg, &ptag, &params))
        return -1;
    e = OID_FIND(sig_algs, c->sig_oid);
    SET_STR(c->sig_alg, e ? e->name : c->sig_oid);
    if (!e) { SET_STR(c->sig_hash, "unknown"); return 0; }
    if (strcmp(c->sig_oid, OID_RSASSA_PSS) == 0) return pss_hash(c, ptag, &params);
    SET_STR(c->sig_hash, e->aux);
    return 0;
}

/* ---- extensions -------------------------------------------------------------- */

/* subjectAltName: GeneralNames; keeps the dNSName entries. */
static int ext_san(tf_cert *c, tf_rd *val)
{
    tf_rd names, gn;
    if (tf_der_expect(val, T_SEQ, &names) || !tf_rd_clean_end(val)) return -1;
    while (!tf_rd_done(&names)) {
        int tag = tf_der_next(&names, &gn);
        if (tag < 0) return -1;
        if (tag == T_DNSNAME) c->san_total++;
        if (tag == T_DNSNAME && c->san_count < TF_X509_MAX_SAN) {
            copy_ascii(c->san_dns[c->san_count], sizeof c->san_dns[0], &gn);
            c->san_count++;
        }
    }
    return 0;
}

/* subjectKeyIdentifier: KeyIdentifier ::= OCTET STRING */
static int ext_ski(tf_cert *c, tf_rd *val)
{
    tf_rd id;
    if (tf_der_expect(val, T_OCTSTR, &id) || !tf_rd_clean_end(val)) return -1;
    c->ski_len = copy_bytes(c->ski, sizeof c->ski, &id);
    return 0;
}

/* authorityKeyIdentifier: SEQUENCE { [0] keyIdentifier OPTIONAL, [1], [2] } */
static int ext_aki(tf_cert *c, tf_rd *val)
{
    tf_rd seq, field;
    if (tf_der_expect(val, T_SEQ, &seq) || !tf_rd_clean_end(val)) return -1;
    while (!tf_rd_done(&seq)) {
        int tag = tf_der_next(&seq, &field);
        if (tag < 0) return -1;
        if (tag == T_KEYID) c->aki_len = copy_bytes(c->aki, sizeof c->aki, &field);
    }
    return 0;
}

/* basicConstraints: SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER OPTIONAL } */
static int ext_basic(tf_cert *c, tf_rd *val)
{
    tf_rd seq, flag;
    if (tf_der_expect(val, T_SEQ, &seq) || !tf_rd_clean_end(val)) return -1;
    if (tf_der_peek(&seq) != T_BOOL) return 0;
    if (tf_der_expect(&seq, T_BOOL, &flag) || tf_rd_left(&flag) != 1) return -1;
    c->is_ca = tf_rd_u8(&flag) != 0;
    return 0;
}

static const struct {
    const char *oid;
    int (*fn)(tf_cert *c, tf_rd *val);
} ext_handlers[] = {
    { "2.5.29.17", ext_san },
    { "2.5.29.14", ext_ski },
    { "2.5.29.35", ext_aki },
    { "2.5.29.19", ext_basic },
};

/* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
static int read_extension(tf_cert *c, tf_rd *list)
{
    tf_rd ext, oid, crit, val;
    char id[64];
    size_t i;
    if (tf_der_expect(list, T_SEQ, &ext) || tf_der_expect(&ext, T_OID, &oid) || oid_str(&oid, id, sizeof id))
        return -1;
    if (tf_der_peek(&ext) == T_BOOL && tf_der_expect(&ext, T_BOOL, &crit)) return -1;
    if (tf_der_expect(&ext, T_OCTSTR, &val) || !tf_rd_clean_end(&ext)) return -1;
    for (i = 0; i < TF_ARRAY_LEN(ext_handlers); i++)
        if (strcmp(id, ext_handlers[i].oid) == 0) return ext_handlers[i].fn(c, &val);
    return 0;
}

/* extensions [3] EXPLICIT SEQUENCE OF Extension */
static int read_extensions(tf_cert *c, tf_rd *tbs)
{
    tf_rd wrap, list;
    if (tf_der_expect(tbs, T_CTX3, &wrap) || tf_der_expect(&wrap, T_SEQ, &list) || !tf_rd_clean_end(&wrap)) return -1;
    while (!tf_rd_done(&list))
        if (read_extension(c, &list)) return -1;
    return list.bad ? -1 : 0;
}

/* ---- certificate ------------------------------------------------------------- */

/* Skips an optional TLV carrying `tag`. */
static int skip_optional(tf_rd *r, int tag)
{
    tf_rd body;
    return tf_der_peek(r) == tag && tf_der_next(r, &body) < 0 ? -1 : 0;
}

static int read_tbs(tf_cert *c, tf_rd *tbs)
{
    tf_rd alg;
    if (skip_optional(tbs, T_CTX0) || read_serial(c, tbs) ||
        tf_der_expect(tbs, T_SEQ, &alg) ||  /* signature: repeated after the TBS, read there */
        read_name(tbs, &c->issuer_der, &c->issuer_der_len, c->issuer, sizeof c->issuer) ||
        read_validity(c, tbs) ||
        read_name(tbs, &c->subject_der, &c->subject_der_len, c->subject, sizeof c->subject) ||
        read_spki(c, tbs) || skip_optional(tbs, T_ISSUER_UID) || skip_optional(tbs, T_SUBJECT_UID))
        return -1;
    if (tf_der_peek(tbs) == T_CTX3 && read_extensions(c, tbs)) return -1;
    return tf_rd_clean_end(tbs) ? 0 : -1;
}

static void cert_reset(tf_cert *c)
{
    memset(c, 0, sizeof *c);
    SET_STR(c->key_type, "unknown");
}

int tf_x509_parse(tf_cert *c, const uint8_t *der, size_t len)
{
    tf_rd r, cert, tbs, sig;
    cert_reset(c);
    tf_rd_init(&r, der ? der : (const uint8_t *)"", der ? len : 0);
    if (tf_der_expect(&r, T_SEQ, &cert) || !tf_rd_clean_end(&r) ||
        tf_der_expect_whole(&cert, T_SEQ, &tbs, &c->tbs_der, &c->tbs_der_len) || read_tbs(c, &tbs) ||
        read_sig_alg(c, &cert) || read_bits(&cert, &sig) || !tf_rd_clean_end(&cert)) {
        cert_reset(c);
        return -1;
    }
    c->sig_der_len = tf_rd_left(&sig);
    c->sig_der = tf_rd_bytes(&sig, c->sig_der_len);
    c->self_issued = c->subject_der_len == c->issuer_der_len &&
                     memcmp(c->subject_der, c->issuer_der, c->subject_der_len) == 0;
    return 0;
}

int tf_x509_issued_by(const tf_cert *child, const tf_cert *parent)
{
    if (!child->issuer_der || !parent->subject_der || child->issuer_der_len != parent->subject_der_len ||
        memcmp(child->issuer_der, parent->subject_der, parent->subject_der_len) != 0)
        return 0;
    if (child->aki_len && parent->ski_len)
        return child->aki_len == parent->ski_len && memcmp(child->aki, parent->ski, child->aki_len) == 0;
    return 1;
}

int tf_x509_name_string(const uint8_t *der, size_t len, char *out, size_t cap)
{
    tf_rd r, body;
    if (cap == 0) return -1;
    out[0] = '\0';
    tf_rd_init(&r, der, len);
    if (tf_der_expect(&r, T_SEQ, &body) || !tf_rd_done(&r)) return -1;
    return name_str(der, len, out, cap);
}
