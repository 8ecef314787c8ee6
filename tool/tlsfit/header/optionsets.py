"""Option sets: what one candidate, the base and the server's extensions add to the
chain's needs ({option: [reasons]}), the cheapest alternative of a base any-of group,
the library defects that rule a candidate out, and the tie-break between candidates."""
from .sizes import MAX_CONTENT_LEN, in_content_len
from .trng import rng_provided
from .wants import merge, need


def candidate_wants(c, rules, line):
    """{option: [reasons]} one candidate adds to the chain's needs."""
    wanted = {}
    need(wanted, rules.fact("versions", c.version, line).options,
         f"the server accepts {c.version}")
    need(wanted, rules.fact("kx", c.kx, line).options, f"suite {c.suite}")
    need(wanted, rules.fact("ciphers", c.cipher, line).options, f"suite {c.suite}")
    need(wanted, rules.fact("hashes", c.prf, line).options,
         f"suite {c.suite} (handshake hash {c.prf.upper()})")
    if c.mac != "aead":
        need(wanted, rules.fact("hashes", c.mac, line).options,
             f"suite {c.suite} (HMAC-{c.mac.upper()})")
    if c.group:
        g = rules.fact("groups", c.group, line)
        need(wanted, g.options + rules.fact("curves", g.attrs["curve"], line).options,
             f"key exchange on {c.group}, which the server accepts")
    if c.sigalg:
        s = rules.fact("sigalgs", c.sigalg, line)
        need(wanted, s.options + rules.fact("hashes", s.attrs["hash"], line).options,
             f"the server signs its key exchange with {c.sigalg}")
    return wanted


def base_wants(doc, rules, opts):
    """{option: [reasons]} every header of these options needs (rules.toml [base]), with
    the server name's (doc: None for none)."""
    wanted = {}
    gone = rng_provided(opts, rules)
    for name in rules.base["options"]:
        if name not in gone:
            need(wanted, [name], f"base: {rules.options[name].doc}")
    if opts.time:
        need(wanted, rules.base["time"], "certificate validity dates are checked")
    if opts.pem:
        need(wanted, rules.base["pem"], "--pem: trust anchors in PEM")
    if doc is not None:
        wanted = merge(wanted, sni_wants(doc, rules))
    return {k: v for k, v in wanted.items() if rules.available(k, opts.line)}


def sni_wants(doc, rules):
    """What reaching the server by name (SNI) needs."""
    wanted = {}
    sni = doc.target.sni
    if sni:
        need(wanted, rules.base["sni"], f'the server is reached by name "{sni}"')
    return wanted


def offered_protocols(doc, opts, index=1):
    """(the protocols the device offers this server, why) or ((), None): server `index`'s
    own list (GenOptions.server_alpn: a device file's `alpn`), else the user's --alpn,
    else the protocol the server selected when the probe found it requires ALPN
    (extensions.alpn_required; the probe's --alpn list when the server selected none)."""
    own = opts.server_alpn[index - 1] if len(opts.server_alpn) >= index else ()
    if own:
        return tuple(own), f"alpn = {','.join(own)} in the device file: the application offers it"
    if opts.alpn:
        return tuple(opts.alpn), f"--alpn {','.join(opts.alpn)}: the application offers it"
    ext = doc.extensions
    if not ext.get("alpn_required"):
        return (), None
    protocols = (ext["alpn"],) if ext.get("alpn") else tuple(ext.get("alpn_offered") or ())
    return protocols, ("the server requires ALPN: a hello without it was refused, the same "
                       f"hello offering {','.join(ext.get('alpn_offered') or protocols)} was "
                       "answered" + (f" (the server selected {ext['alpn']})" if ext.get("alpn")
                                     else ""))


def alpn_wants(doc, rules, opts, index=1):
    """What offering the application protocols to server `index` needs (offered_protocols)."""
    wanted = {}
    protocols, why = offered_protocols(doc, opts, index)
    if protocols:
        need(wanted, rules.base["alpn"], why)
    return wanted


def extension_wants(doc, chosen, rules, line, in_len=None):
    """Extensions the server supports that the chosen candidates use.  in_len: the
    header's MBEDTLS_SSL_IN_CONTENT_LEN (default: what this server alone needs)."""
    wanted = {}
    ext = doc.extensions
    if any(c.version == "TLSv1.2" for c in chosen):
        if ext.get("extended_master_secret"):
            need(wanted, ["MBEDTLS_SSL_EXTENDED_MASTER_SECRET"],
                 "the server supports extended master secret (TLS 1.2)")
        if ext.get("encrypt_then_mac") and any(not c.aead for c in chosen):
            need(wanted, ["MBEDTLS_SSL_ENCRYPT_THEN_MAC"],
                 "the server supports encrypt-then-MAC and a CBC suite is used")
    return merge(wanted, _fragment_wants(doc, chosen, line, in_len))


# The max_fragment_length the client asks for (RFC 6066 code 1).  512 because the limit
# binds both directions: mbedtls_ssl_conf_max_frag_len() refuses a length above
# MBEDTLS_SSL_OUT_CONTENT_LEN, and the client's output buffer should stay small.
MFL_BYTES = 512
MFL_CODE = "MBEDTLS_SSL_MAX_FRAG_LEN_512"


def _fragment_wants(doc, chosen, line, in_len=None):
    """Keep the server's application records within MBEDTLS_SSL_IN_CONTENT_LEN when it is
    below a full record and the server was seen to honour a limit: max_fragment_length
    for TLS 1.2 (3.6 only: 2.28 cannot reassemble the handshake messages it splits),
    record_size_limit for TLS 1.3."""
    wanted = {}
    if in_len is None:
        in_len, _ = in_content_len(doc, line)
    rec = doc.records
    if in_len >= MAX_CONTENT_LEN:
        return wanted
    if line == "3.6" and rec.get("mfl_honoured") and any(c.version == "TLSv1.2" for c in chosen):
        need(wanted, ["MBEDTLS_SSL_MAX_FRAGMENT_LENGTH"],
             f"the server honours max_fragment_length: asking for {MFL_BYTES}-byte records "
             f"keeps its application data within MBEDTLS_SSL_IN_CONTENT_LEN {in_len}")
    if rec.get("record_size_limit") and rec.get("record_size_limit_honoured") and \
            any(c.version == "TLSv1.3" for c in chosen):
        need(wanted, ["MBEDTLS_SSL_RECORD_SIZE_LIMIT"],
             f"the server honours record_size_limit: announcing {in_len} keeps its "
             f"application data within MBEDTLS_SSL_IN_CONTENT_LEN")
    return wanted


def any_of(wanted, rules, line, cost, provided=()):
    """Satisfy base any-of groups (the DRBG) with the cheapest alternative; a group
    met by a `provided` option (the device's TRNG, gen --external-rng) needs none."""
    for group in rules.base["any_of"]:
        if any(o in wanted or o in provided for o in group):
            continue
        alts = [o for o in group if rules.available(o, line)]
        pick = min(alts, key=lambda o: (cost(set(wanted) | {o} | set(
            rules.closure({o: []}, line, cost))), alts.index(o)))
        need(wanted, [pick], "the random generator, cheapest beside the rest")
    return wanted


def defect(c, enabled, doc, rules, line):
    """The reason a known library defect (rules.toml [[defects]]) rules the candidate out
    with this option set, or None."""
    for d in rules.defects:
        if d.line != line or d.version != c.version:
            continue
        signs = set(doc.signature_algorithms(c.version))
        if all(o in enabled for o in d.all) and signs & set(d.server_signs) \
                and c.kx in ("ECDHE_RSA", "DHE_RSA"):
            return d.reason
    return None


def rank(c, rules):
    """The tie-break between candidates of equal flash estimate: rules.toml [preference]."""
    pref = rules.preference

    def idx(table, key):
        lst = pref.get(table, ())
        return lst.index(key) if key in lst else len(lst)
    return (idx("kx", c.kx), idx("ciphers", c.cipher), idx("groups", c.group),
            idx("hashes", c.prf), c.suite, c.group or "", c.sigalg or "")
