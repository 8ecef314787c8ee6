"""What the device's own identity adds to a header (mutual TLS; GenOptions.client).

    wants, warnings = client_wants(server, client, rules, line)   # {option: [reasons]}
    scheme_for(client, candidate, allowed, line) -> (scheme, why) or Refusal
    client_duty(client, opts) -> the preamble line on loading the identity

A server that sends CertificateRequest makes the client present its certificate and
sign the handshake (CertificateVerify) with its key.  From the certificate's public
facts alone (core.identity.ClientIdentity; no key needed) the header gets:
  - the key's parser: its type (cert_keys) and, for EC, its curve (curves);
  - what parsing the device certificate needs: mbedTLS knows a signature algorithm only
    when its module and hash are on (an RSA-signed device certificate does not parse in
    an ECDSA-only header: MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG), rules.toml cert_sigs `parse`;
  - the signature mbedTLS will make (sigalgs + its hash), which must be one the
    server's CertificateRequest allows (profile client_cert_request.signature_algorithms):
      TLS 1.2 (3.6 ssl_write_certificate_verify, 2.28 alike): the key's algorithm with
        the suite's PRF hash, PKCS#1 v1.5 for RSA (rsa_pkcs1_sha256/384,
        ecdsa_secp256r1_sha256 / ecdsa_secp384r1_sha384 as the TLS 1.2 code points);
      TLS 1.3 (3.6 ssl_tls13_write_certificate_verify_body): the first scheme of the
        server's list that fits the key: ecdsa_<curve>_<hash> for secp256r1/384r1/521r1,
        rsa_pss_rsae_sha256/384/512 for RSA (RSA-PSS: PKCS1_V21 and, for mbedTLS to
        offer it, X509_RSASSA_PSS_SUPPORT);
  - MBEDTLS_MPI_MAX_SIZE for an RSA key (sizes.size_values reads client.bits).
No scheme allowed: Refusal (exit 38) naming it.  A server that did not ask for a
certificate gets nothing, and a warning says so.
"""
from ..core.errors import REFUSED, TlsfitError

TLS13_EC = {"secp256r1": "ecdsa_secp256r1_sha256", "secp384r1": "ecdsa_secp384r1_sha384",
            "secp521r1": "ecdsa_secp521r1_sha512"}
TLS13_RSA = ("rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512")


class ClientRefusal(TlsfitError):
    def __init__(self, message):
        super().__init__(REFUSED, message)


def _need(wanted, options, reason):
    for o in options:
        wanted.setdefault(o, [])
        if reason not in wanted[o]:
            wanted[o].append(reason)


def _fact(rules, table, key, line, what):
    f = rules.fact(table, key, line)
    if f.unsupported:
        raise ClientRefusal(f"{what}: {f.unsupported}")
    return f


def scheme_for(client, c, allowed, line):
    """(scheme, why) mbedTLS signs the CertificateVerify of candidate c with, for this
    key; Refusal when the server's CertificateRequest (allowed) has none of it."""
    listed = ", ".join(allowed) or "nothing"
    key = client.label()
    if c.version == "TLSv1.2":
        h = "sha384" if c.prf == "sha384" else "sha256"
        scheme = (f"rsa_pkcs1_{h}" if client.key_type == "rsa" else
                  f"ecdsa_secp{'384' if h == 'sha384' else '256'}r1_{h}")
        if scheme not in allowed:
            raise ClientRefusal(
                f"the device's {key} signs a TLS 1.2 CertificateVerify in suite {c.suite} with "
                f"{scheme} only (mbedTLS {line}: the key's algorithm, the suite's hash"
                f"{', PKCS#1 v1.5' if client.key_type == 'rsa' else ''}), which the server's "
                f"CertificateRequest does not allow (it allows: {listed})")
        return scheme, f"TLS 1.2, suite {c.suite}"
    mine = TLS13_RSA if client.key_type == "rsa" else \
        tuple(s for s in [TLS13_EC.get(client.curve)] if s)
    if not mine:
        raise ClientRefusal(f"the device's {key} cannot sign a TLS 1.3 CertificateVerify in "
                            f"mbedTLS {line} (it signs with secp256r1, secp384r1, secp521r1 "
                            "or RSA keys)")
    for s in allowed:
        if s in mine:
            return s, "TLS 1.3, the first scheme of the server's list that fits the key"
    raise ClientRefusal(f"the device's {key} signs TLS 1.3 with {' or '.join(mine)}, none of "
                        f"which the server's CertificateRequest allows (it allows: {listed})")


def _cert_parse(client, rules, line, wanted):
    family = rules.cert_sig_family(client.signature_algorithm or "")
    what = f'the device certificate "{client.subject}" is signed with {client.signature_algorithm}'
    if family is None:
        raise ClientRefusal(f"{what}, which tlsfit's rules do not know")
    parse = rules.facts["cert_sigs"][family].attrs.get("parse")
    if parse is None:
        raise ClientRefusal(f"{what}: {rules.fact('cert_sigs', family, line).unsupported}")
    h = _fact(rules, "hashes", client.signature_hash or "unknown", line, what)
    _need(wanted, list(parse) + list(h.options),
          f"{what}: mbedTLS must know that algorithm to parse it")


def client_wants(server, client, rules, line):
    """({option: [reasons]}, warnings) that presenting `client` to this server needs
    (server: servers.Server with its chosen candidates and profile)."""
    doc = server.doc
    if not doc.client_cert_requested:
        return {}, [f"the server did not ask for a client certificate when probed: nothing "
                    f"is configured for the device's {client.label()}"]
    allowed = list((doc.client_cert_request or {}).get("signature_algorithms") or ())
    wanted = {}
    key = client.label()
    kf = _fact(rules, "cert_keys", client.key_type, line, f"the device's {key}")
    opts = list(kf.options)
    if client.key_type == "ec":
        opts += _fact(rules, "curves", client.curve, line, f"the device's {key}").options
    _need(wanted, opts, f"the device's {key} ({client.subject}) must parse")
    _cert_parse(client, rules, line, wanted)
    for c in server.chosen:
        scheme, how = scheme_for(client, c, allowed, line)
        s = _fact(rules, "sigalgs", scheme, line, f"the device's {key} signing {scheme}")
        h = _fact(rules, "hashes", s.attrs["hash"], line, f"signing {scheme}")
        _need(wanted, list(s.options) + list(h.options),
              f"the device's {key} signs its CertificateVerify with {scheme} ({how}; the "
              "server's CertificateRequest allows it)")
    return wanted, []


def mfl_blocked(client, mfl_bytes):
    """Why max_fragment_length must stay out with this identity (None: it may go in):
    mbedTLS 3.6 sends its TLS 1.2 Certificate message in one record whatever length was
    negotiated, and a server that holds it to the length answers record_overflow (22)
    (seen with OpenSSL: a 636-byte RSA-2048 device Certificate message against 512)."""
    n = client.certificate_msg_len
    if n <= mfl_bytes:
        return None
    return (f"the device's Certificate message is {n} bytes, more than the {mfl_bytes}-byte "
            "records it would ask for, and mbedTLS does not split the handshake messages it "
            "sends to fit (the server answers record_overflow)")


def out_content_len(client, default):
    """(value, why) for MBEDTLS_SSL_OUT_CONTENT_LEN when the device's Certificate message
    does not fit `default`, else None."""
    n = client.certificate_msg_len
    if n <= default:
        return None
    value = -(-n // 256) * 256
    return value, (f"the device's Certificate message ({n} bytes) must fit the output buffer "
                   "whole; mbedtls_ssl_write() splits longer application writes")


def client_duty(client, pem):
    """The preamble's line on loading and presenting the identity."""
    loader = "mbedtls_x509_crt_parse()" if pem else "mbedtls_x509_crt_parse_der()"
    return (f'load the device certificate "{client.subject}" with {loader} and its key with '
            "mbedtls_pk_parse_key() (or, when the key lives in a secure element, an opaque "
            "PSA key: MBEDTLS_USE_PSA_CRYPTO and mbedtls_pk_setup_opaque()), then "
            "mbedtls_ssl_conf_own_cert(&conf, &own_cert, &own_key) before mbedtls_ssl_setup()")
