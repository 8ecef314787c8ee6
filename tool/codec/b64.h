/*
 * b64.h -- standard base64 (RFC 4648 section 4, alphabet A-Z a-z 0-9 + /,
 * '=' padding), shared by the prober (PEM bundles, JSON output) and the
 * verify client (its CA file).  C11, no allocation, no TLS library.
 */
#ifndef TF_B64_H
#define TF_B64_H

#include <stddef.h>
#include <stdint.h>

/* Value of one base64 symbol (0..63), or -1 for any other character ('='
   included). */
int tf_b64_value(int ch);

/*
 * Decodes the base64 text [p, end) into out and returns the byte count, or
 * -1 when the text is not base64.  Strict about the symbols: spaces, tabs,
 * CR and LF are skipped anywhere; any other character outside the alphabet
 * is an error; '=' may only pad the end (at most two, nothing but white
 * space after them) and the symbol count plus padding must be a multiple of
 * four.  At most (end - p) * 3 / 4 bytes are written.
 *
 * out may alias p: byte n is written only after at least n + 1 characters
 * were read, so the output never overtakes the input (decoding in place
 * overwrites only the text already decoded).
 */
long tf_b64_decode(const char *p, const char *end, uint8_t *out);

/* Encodes n (1 to 3) bytes at in as the four characters at out, padded with
   '=' when n < 3.  Writes no terminating NUL. */
void tf_b64_encode_block(const uint8_t *in, size_t n, char out[4]);

#endif
