/*
 * sigcheck.h -- does this certificate's signature verify under that key?
 *
 * Chain building (path.h) must not take a certificate for an issuer only
 * because the names match: a cross-signed root and the self-signed root of
 * the same name and key both "issue" the intermediate, but an unrelated CA
 * that merely shares the name does not.  So the prober checks signatures
 * with mbedTLS 3.6's crypto (which it links already) where it can, and says
 * so when it cannot (Ed25519, DSA, an unknown algorithm or curve), leaving
 * the caller to decide by names and key identifiers.
 */
#ifndef TF_SIGCHECK_H
#define TF_SIGCHECK_H

#include "x509.h"

/*
 * Checks the signature on `child` (its TBSCertificate, signature algorithm,
 * hash and value, as decoded by tf_x509_parse) with the subject public key
 * of `parent`.  Returns 1 when it verifies, 0 when it does not (a wrong key,
 * a key of another type, a malformed signature), -1 when it cannot be
 * checked here: the algorithm, the hash or the parent's key is outside what
 * mbedTLS's crypto verifies, a certificate did not decode, or memory ran out.
 * RSASSA-PSS is checked with MGF1 over the signature's hash and any salt
 * length.
 */
int tf_sig_check(const tf_cert *child, const tf_cert *parent);

#endif
