/*
 * pem.h -- finding the CERTIFICATE blocks of PEM text (RFC 7468), shared by
 * the prober (trust-anchor bundles) and the verify client (its CA file).
 * Only the armour: the base64 inside a block is decoded with b64.h.  C11, no
 * allocation, no TLS library.
 */
#ifndef TF_PEM_H
#define TF_PEM_H

#include <stddef.h>

#define TF_PEM_BEGIN_CERT "-----BEGIN CERTIFICATE-----"
#define TF_PEM_END_CERT "-----END CERTIFICATE-----"

/*
 * Cursor over PEM text.  Invariants: text <= p <= end; p is where the next
 * search starts, always after the END line of the last block returned, so
 * the caller may overwrite a returned body (decode it in place) before the
 * next call.  The text may hold NUL bytes and need not be NUL-terminated.
 */
typedef struct {
    const char *p;
    const char *end;
} tf_pem;

/* First occurrence of the NUL-terminated `needle` in [p, end), or NULL. */
const char *tf_pem_find(const char *p, const char *end, const char *needle);

/* Starts a cursor over the `len` bytes of text. */
void tf_pem_init(tf_pem *c, const char *text, size_t len);

/*
 * Finds the next complete "-----BEGIN CERTIFICATE-----" ...
 * "-----END CERTIFICATE-----" block and sets [*body, *body_end) to the text
 * between the two markers (the base64, with its line breaks).  Returns 1, or
 * 0 when no complete block is left.  A BEGIN marker followed by another
 * BEGIN before any END (an unterminated block) is skipped: the search
 * resumes at the second one.
 */
int tf_pem_next_cert(tf_pem *c, const char **body, const char **body_end);

#endif
