/*
 * main.c -- the tlsfit-probe command line: options in, profile JSON out.
 *
 * A thin layer over probe.c: parse the options (one table, no if-chains),
 * resolve the target, run the steps, write the profile (atomically with -o).
 * Every failure is one line on stderr naming the target and the exit code is
 * the errors.h code.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "anchor.h"
#include "clientid.h"
#include "errors.h"
#include "hello.h"
#include "net.h"
#include "probe.h"
#include "psk.h"

#define MAX_CA 32

typedef struct {
    tf_target target;
    const char *spec;
    const char *sni;
    const char *alpn;
    const char *out;
    const char *ca[MAX_CA];
    size_t nca;
    int no_system_store;
    const char *psk_identity;
    long psk_key_fd;           /* -1 none */
    const char *client_cert, *client_key;
    int progress;
    int list_errors;
    int help;
} options;

typedef enum { ARG_NONE, ARG_STR, ARG_INT } argkind;

typedef struct {
    const char *name;
    argkind kind;
    const char *help;
    int (*apply)(options *o, const char *val);
} optdef;

static int set_sni(options *o, const char *v) { o->sni = v; return 0; }
static int set_out(options *o, const char *v) { o->out = v; return 0; }
static int set_progress(options *o, const char *v) { (void)v; o->progress = 1; return 0; }
static int set_list(options *o, const char *v) { (void)v; o->list_errors = 1; return 0; }
static int set_help(options *o, const char *v) { (void)v; o->help = 1; return 0; }
static int set_nostore(options *o, const char *v) { (void)v; o->no_system_store = 1; return 0; }
static int set_dtls(options *o, const char *v) { (void)v; o->target.dtls = 1; return 0; }

static int set_timeout(options *o, const char *v)
{
    long n;
    if (tf_parse_long(v, 1, 600, &n)) return -1;
    o->target.timeout_ms = (int)n * 1000;
    return 0;
}

static int set_delay(options *o, const char *v)
{
    long n;
    if (tf_parse_long(v, 0, 60000, &n)) return -1;
    o->target.delay_ms = (int)n;
    return 0;
}

static int set_alpn(options *o, const char *v)
{
    uint8_t list[256];
    size_t len;
    if (tf_alpn_list_parse(v, list, sizeof(list), &len)) return -1;
    o->alpn = v;
    return 0;
}

static int set_psk_identity(options *o, const char *v)
{
    if (!v[0] || strlen(v) > TF_PSK_MAX_IDENTITY) return -1;
    o->psk_identity = v;
    return 0;
}

static int set_psk_key_fd(options *o, const char *v)
{
    return tf_parse_long(v, 0, 1023, &o->psk_key_fd);
}

static int set_client_cert(options *o, const char *v) { o->client_cert = v; return 0; }
static int set_client_key(options *o, const char *v) { o->client_key = v; return 0; }

static int add_ca(options *o, const char *v)
{
    if (o->nca >= MAX_CA) return -1;
    o->ca[o->nca++] = v;
    return 0;
}

static const optdef optdefs[] = {
    { "--sni", ARG_STR, "NAME   server_name to send (default: HOST unless it is an IP address; \"\" sends none)", set_sni },
    { "--alpn", ARG_STR, "LIST  ALPN protocols to offer in every hello, comma-separated (e.g. x-amzn-mqtt-ca); the\n"
                         "              alpn step then also tries a hello without them (does the server require ALPN?)", set_alpn },
    { "--dtls", ARG_NONE, "        DTLS 1.2 over UDP (default port 5684, CoAP over DTLS) instead of TLS over TCP", set_dtls },
    { "--timeout", ARG_INT, "SEC  per-operation I/O timeout in seconds (default 5); a connection ends at twice that", set_timeout },
    { "--ca", ARG_STR, "FILE    PEM bundle to look the trust anchor up in (repeatable; before the system store)", add_ca },
    { "--no-system-store", ARG_NONE, "  do not look in " TF_SYSTEM_BUNDLE, set_nostore },
    { "--psk-identity", ARG_STR, "ID  pre-shared-key identity (1-128 bytes): the psk step proves which PSK suites\n"
                                 "              and TLS 1.3 modes complete a handshake; needs --psk-key-fd", set_psk_identity },
    { "--psk-key-fd", ARG_INT, "N  read the pre-shared key (raw bytes, 1-64) from inherited file descriptor N", set_psk_key_fd },
    { "--client-cert", ARG_STR, "FILE  the device's certificate (PEM or DER), presented in the resumption step to a\n"
                                "              server that asks for one; needs --client-key", set_client_cert },
    { "--client-key", ARG_STR, "FILE  the device's private key (PEM or DER, unencrypted); read, never written", set_client_key },
    { "--delay", ARG_INT, "MS     pause between connections, for rate-limited servers (default 0)", set_delay },
    { "--progress", ARG_NONE, "      one line per step on stderr", set_progress },
    { "-o", ARG_STR, "FILE      write the profile to FILE (atomically) instead of stdout", set_out },
    { "--list-errors", ARG_NONE, "   print the exit codes and their meaning", set_list },
    { "--help", ARG_NONE, "          this text", set_help },
};

static void usage(FILE *f)
{
    size_t i;
    fprintf(f, "usage: tlsfit-probe [options] HOST[:PORT]\n"
               "Records what a TLS server accepts (versions, suites, groups, signature schemes, chain,\n"
               "record sizes, extensions) and writes it as a JSON profile (docs/profile-schema.md).\n\n");
    for (i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++) fprintf(f, "  %s %s\n", optdefs[i].name, optdefs[i].help);
    fprintf(f, "\nPORT defaults to 443 (5684 with --dtls); IPv6 literals as [::1]:4433.  Exit codes: --list-errors.\n");
}

static int parse_args(options *o, int argc, char **argv)
{
    int i;
    size_t k;
    for (i = 1; i < argc; i++) {
        const optdef *d = NULL;
        for (k = 0; k < sizeof(optdefs) / sizeof(optdefs[0]); k++)
            if (strcmp(argv[i], optdefs[k].name) == 0) d = &optdefs[k];
        if (!d && argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "tlsfit-probe: unknown option %s (see --help)\n", argv[i]);
            return TF_ERR_USAGE;
        }
        if (!d) {
            if (o->spec) { fprintf(stderr, "tlsfit-probe: more than one target given\n"); return TF_ERR_USAGE; }
            o->spec = argv[i];
            continue;
        }
        if (d->kind != ARG_NONE && i + 1 >= argc) {
            fprintf(stderr, "tlsfit-probe: %s needs a value\n", d->name);
            return TF_ERR_USAGE;
        }
        if (d->apply(o, d->kind == ARG_NONE ? NULL : argv[++i]) != 0) {
            fprintf(stderr, "tlsfit-probe: bad value for %s: %s\n", d->name, argv[i]);
            return TF_ERR_USAGE;
        }
    }
    return TF_OK;
}

static void list_errors(void)
{
    const tf_errinfo *e;
    for (e = tf_err_table(); e->name; e++)
        if (e->tools & TF_TOOL_PROBE) printf("%3d  %-18s %s\n", e->code, e->name, e->comment);
}

static int count_cert(void *ctx, const uint8_t *der, size_t len)
{
    (void)ctx; (void)der; (void)len;
    return 0;
}

static int check_ca_files(const options *o)
{
    size_t i;
    for (i = 0; i < o->nca; i++) {
        if (tf_pem_each(o->ca[i], count_cert, NULL) <= 0) {
            fprintf(stderr, "tlsfit-probe: %s: cannot read it or it holds no PEM certificate [TF_ERR_CA_FILE]\n", o->ca[i]);
            return TF_ERR_CA_FILE;
        }
    }
    return TF_OK;
}

/* Writes to path.tmp then renames, so a failed probe never leaves a partial file.
   An existing profile keeps its mode; a new one follows the umask.  On failure
   `why` holds "PATH: strerror" (the file that could not be written). */
static int write_profile(const tf_profile *p, const char *path, char *why, size_t whylen)
{
    char tmp[4096];
    const char *failed;
    struct stat st;
    FILE *f;
    int rc, err = 0;

    if (!path) {
        rc = tf_profile_write(p, stdout);
        if (rc != TF_OK) snprintf(why, whylen, "standard output: %s", strerror(errno ? errno : EIO));
        return rc;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    failed = tmp;
    errno = 0;
    f = fopen(tmp, "w");
    if (!f) {
        snprintf(why, whylen, "%s: %s", tmp, strerror(errno ? errno : EIO));
        return TF_ERR_OUTPUT;
    }
    if (stat(path, &st) == 0 && fchmod(fileno(f), st.st_mode & 07777) != 0) err = errno;
    errno = 0;
    rc = err ? TF_ERR_OUTPUT : tf_profile_write(p, f);
    if (rc != TF_OK && !err) err = errno ? errno : EIO;
    if (fclose(f) != 0 && rc == TF_OK) { rc = TF_ERR_OUTPUT; err = errno ? errno : EIO; }
    if (rc == TF_OK && rename(tmp, path) != 0) { rc = TF_ERR_OUTPUT; err = errno; failed = path; }
    if (rc != TF_OK) {
        remove(tmp);
        snprintf(why, whylen, "%s: %s", failed, strerror(err ? err : EIO));
    }
    return rc;
}

/* --client-cert/--client-key into id: 0 (id loaded, or untouched without them), or
   TF_ERR_USAGE after one line on stderr. */
static int load_client(const options *o, tf_client_id *id)
{
    char why[600];
    if (!o->client_cert != !o->client_key) {
        fprintf(stderr, "tlsfit-probe: --client-cert and --client-key go together [TF_ERR_USAGE]\n");
        return TF_ERR_USAGE;
    }
    if (!o->client_cert) return TF_OK;
    if (tf_client_id_load(id, o->client_cert, o->client_key, why, sizeof(why)) != TF_OK) {
        fprintf(stderr, "tlsfit-probe: %s [TF_ERR_USAGE]\n", why);
        tf_client_id_free(id);
        return TF_ERR_USAGE;
    }
    return TF_OK;
}

static int fail_target(const options *o, int code, const char *what)
{
    const char *fmt = strchr(o->target.host, ':') ? "tlsfit-probe: [%s]:%u: %s [%s]\n" : "tlsfit-probe: %s:%u: %s [%s]\n";
    fprintf(stderr, fmt, o->target.host, o->target.port, what, tf_err_name(code));
    return code;
}

int main(int argc, char **argv)
{
    options o;
    tf_profile p;
    int rc;

    static tf_psk_secret psk;
    static tf_client_id client;

    memset(&o, 0, sizeof(o));
    o.target.timeout_ms = 5000;
    o.psk_key_fd = -1;
    rc = parse_args(&o, argc, argv);
    if (rc) return rc;
    if (o.help) { usage(stdout); return TF_OK; }
    if (o.list_errors) { list_errors(); return TF_OK; }
    if (!o.spec) { usage(stderr); return TF_ERR_USAGE; }
    if (tf_target_parse(&o.target, o.spec) != TF_OK) {
        fprintf(stderr, "tlsfit-probe: %s: not a HOST[:PORT] target [TF_ERR_USAGE]\n", o.spec);
        return TF_ERR_USAGE;
    }
    snprintf(o.target.sni, sizeof(o.target.sni), "%s",
             o.sni ? o.sni : tf_host_is_ip(o.target.host) ? "" : o.target.host);
    if ((rc = check_ca_files(&o)) != TF_OK) return rc;
    if (!o.psk_identity != (o.psk_key_fd < 0)) {
        fprintf(stderr, "tlsfit-probe: --psk-identity and --psk-key-fd go together [TF_ERR_USAGE]\n");
        return TF_ERR_USAGE;
    }
    if (o.psk_identity) {
        snprintf(psk.identity, sizeof(psk.identity), "%s", o.psk_identity);
        if (tf_psk_read_key((int)o.psk_key_fd, &psk) != TF_OK) {
            fprintf(stderr, "tlsfit-probe: --psk-key-fd %ld: no key read, or over %d bytes [TF_ERR_PSK_KEY]\n",
                    o.psk_key_fd, TF_PSK_MAX_KEY);
            return TF_ERR_PSK_KEY;
        }
    }
    if ((rc = load_client(&o, &client)) != TF_OK) return rc;
    if (tf_target_resolve(&o.target) != TF_OK) {
        tf_client_id_free(&client);
        return fail_target(&o, TF_ERR_RESOLVE, "the host name does not resolve");
    }

    tf_profile_init(&p);
    p.target = &o.target;
    p.ca_paths = o.ca;
    p.nca = o.nca;
    p.system_store = !o.no_system_store;
    p.progress = o.progress;
    p.psk = o.psk_identity ? &psk : NULL;
    p.client = client.loaded ? &client : NULL;
    if (o.alpn) tf_alpn_list_parse(o.alpn, p.alpn_list, sizeof(p.alpn_list), &p.alpn_list_len);
    rc = tf_probe_run(&p);
    if (rc != TF_OK) {
        fail_target(&o, rc, p.fatal_detail);
        goto cleanup;
    }
    {
        char why[4200], what[4300];
        rc = write_profile(&p, o.out, why, sizeof(why));
        if (rc != TF_OK) {
            snprintf(what, sizeof(what), "could not write the profile to %s", why);
            fail_target(&o, rc, what);
        }
    }
cleanup:
    tf_profile_free(&p);
    tf_client_id_free(&client);
    return rc;
}
