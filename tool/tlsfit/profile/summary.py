"""The human-readable summary of a profile (what `tlsfit probe` prints without --json)."""
from . import dtlsfacts
from .model import failed_steps


def _alpn_text(ext):
    """"x-amzn-mqtt-ca (required)" / "none": what the alpn step learned."""
    chosen = ext["alpn"] or "none"
    if ext.get("alpn_required"):
        return f"{chosen} (required: a hello without ALPN is refused)"
    return chosen


def _yesno(v):
    return "unknown" if v is None else ("yes" if v else "no")


def _key(k):
    parts = [k.get("type", "?")]
    if k.get("bits"):
        parts.append(str(k["bits"]))
    if k.get("curve"):
        parts.append(k["curve"])
    return " ".join(parts)


def _certificate(c):
    if c.get("decoded") is False:
        return f"(not decodable: {c['der_len']} B of DER the prober's decoder rejects)"
    key = _key(c["key"])
    if c["key"]["type"] == "unknown":
        key = f"key of unknown type {c['key']['oid']}"
    sig = c["signature_algorithm"]
    if c["signature_hash"] == "unknown" and c.get("signature_oid") and sig != c["signature_oid"]:
        sig += f" ({c['signature_oid']})"
    return f"{c['subject']}  ({key}, {sig}, {c['der_len']} B, until {c['not_after'][:10]})"


def _kx(kx):
    if kx is None:                  # schema v1: null for versions whose step saw none
        return "not observed"
    if "group" in kx:
        return f"group {kx['group']}"
    if "curve" in kx:
        return f"ECDHE {kx['curve']}"
    if "dh_bits" in kx:
        return f"DHE {kx['dh_bits']} bits"
    return "static RSA" if kx == {} else ", ".join(f"{k} {v}" for k, v in sorted(kx.items()))


def _bytes(n):
    return f"{n} B"


def _version_lines(doc):
    """Per version: the suites in their order, the groups, key exchange, signatures."""
    out = []
    for ver in doc["versions"]:
        suites = doc["ciphersuites"][ver]
        pref = doc["server_preference"][ver]
        order = {True: "server order", False: "client order", None: "order undecidable"}[pref]
        out.append(f"{ver}:")
        out.append(f"  suites ({order}):")
        out.extend(f"    {s['id']} {s['name']}" for s in suites)
        if not suites:
            out.append("    (none)")
        groups = doc["groups"][ver]
        preferred = doc["group_preferred"][ver]
        gline = ", ".join(groups) if groups else "(none)"
        if preferred:
            gline += f"; preferred {preferred}"
        out.append(f"  groups: {gline}")
        out.append(f"  key exchange: {_kx(doc['key_exchange'][ver])}")
        sigs = doc["signature_algorithms"][ver]
        out.append(f"  signature algorithms: {', '.join(sigs) if sigs else '(none)'}")
    return out


def _chain_lines(doc):
    """The chain (leaf first), its path and truncation, the anchor, completeness."""
    out = []
    chain = doc["chain"]
    if doc["chain_from"] is None:
        failed = [name for name, _ in failed_steps(doc, "handshake")]
        why = f"step {', '.join(failed)} failed" if failed else "the server sent none"
        out.append(f"chain: not captured ({why})")
    else:
        out.append(f"chain (from {doc['chain_from']}, {len(chain)} certificate"
                   f"{'' if len(chain) == 1 else 's'}, leaf first):")
    unused = set(doc.get("chain_unused") or ())
    path = doc.get("chain_path")
    for i, c in enumerate(chain):
        note = "  (not on the path to the anchor)" if i in unused else ""
        out.append(f"  [{i}] {_certificate(c)}{note}")
    if path is not None and (unused or path != list(range(len(chain)))):
        out.append(f"  path: {' <- '.join(f'[{i}]' for i in path)}")
    cut = doc.get("chain_truncated")
    if cut:
        out.append(f"  truncated: the server sent {cut['sent']} certificates; the profile keeps "
                   f"the first {cut['kept']} (the path and the anchor are found among those)")
    anchor = doc["trust_anchor"]
    if anchor:
        source = "sent by the server" if anchor["source"] == "sent" else f"from {anchor['source']}"
        out.append(f"  anchor: {anchor['subject']}  ({_key(anchor['key'])}, "
                   f"{anchor['signature_algorithm']}, {source})")
    else:
        out.append("  anchor: not found (not sent, not in the --ca files or the system store)")
    out.append(f"  chain complete: {_yesno(doc['chain_complete'])}")
    return out


def _session_lines(doc):
    """Record sizes, fragment limits, extensions, the client-certificate request."""
    out = []
    r = doc["records"]
    out.append(f"records: largest record {_bytes(r['max_record_len'])}, largest plaintext "
               f"{_bytes(r['max_plaintext_len'])}, largest handshake message "
               f"{_bytes(r['max_handshake_msg_len'])}, Certificate message "
               f"{_bytes(r['certificate_msg_len'])}")
    mfl = {None: "not tested", True: "honoured", False: "not honoured"}[r["mfl_honoured"]]
    rsl = r["record_size_limit"]
    rsl_text = str(rsl) if rsl is not None else "not acknowledged"
    out.append(f"fragment limits: max_fragment_length=512 {mfl}; record_size_limit {rsl_text}")
    e = doc["extensions"]
    out.append(f"extensions: extended_master_secret {_yesno(e['extended_master_secret'])}, "
               f"encrypt_then_mac {_yesno(e['encrypt_then_mac'])}, "
               f"session_ticket {_yesno(e['session_ticket'])}, "
               f"renegotiation_info {_yesno(e['renegotiation_info'])}, "
               f"ALPN {_alpn_text(e)}")
    if doc["client_cert_requested"]:
        req = doc["client_cert_request"] or {}
        cas = "; ".join(req.get("ca_names") or []) or "any"
        out.append(f"client certificate: requested (CAs: {cas})")
        if req.get("signature_algorithms"):
            out.append(f"  signature algorithms: {', '.join(req['signature_algorithms'])}")
    else:
        out.append("client certificate: not requested")
    return out


def _ticket_text(f):
    if f["ticket_len"] is None:
        return ""
    life = f"{f['ticket_lifetime_s']} s" if f["ticket_lifetime_s"] is not None else "unknown"
    return f" (ticket {f['ticket_len']} B, lifetime {life})"


def _resumption_lines(doc):
    """What the resumption step proved, per version (nothing when it did not run)."""
    res = doc.get("resumption") or {}
    out = []
    if "TLSv1.3" in res:
        f = res["TLSv1.3"]
        tickets = "unknown" if f["tickets"] is None else str(f["tickets"])
        out.append(f"resumption TLSv1.3: {tickets} tickets per handshake{_ticket_text(f)}; resumed with "
                   f"psk_dhe_ke {_yesno(f['psk_dhe_ke'])}, psk_ke {_yesno(f['psk_ke'])}")
    if "TLSv1.2" in res:
        f = res["TLSv1.2"]
        out.append(f"resumption TLSv1.2: by session ID {_yesno(f['session_id'])}, by ticket "
                   f"{_yesno(f['ticket'])}{_ticket_text(f)}")
    return out


def _psk_lines(doc):
    """What the psk step proved for its identity (nothing when it did not run)."""
    psk = doc.get("psk")
    if not psk:
        return []
    suites = ", ".join(s["name"] for s in psk["tls12_suites"]) or "none"
    modes = ", ".join(psk["tls13_modes"]) or "none"
    suite13 = f" ({psk['tls13_suite']['name']})" if psk["tls13_suite"] else ""
    return [f"psk identity {psk['identity']!r}: TLSv1.2 {suites}; TLSv1.3 modes {modes}{suite13}"]


def _probe_lines(doc):
    """The probe's cost and its failed steps."""
    out = []
    s = doc["stats"]
    ms = s["elapsed_ms"]
    took = f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"
    out.append(f"probe: {s['connections']} connections, {took}")
    for name, step in failed_steps(doc):
        code = f"{step.get('error')}, code {step['code']}" if step.get("error") else \
            f"code {step['code']}"
        out.append(f"  step {name} failed: {step.get('reason')} ({code})")
    return out


def format_summary(doc):
    """Returns the summary as a string (several lines, no trailing newline)."""
    out = []
    t = doc["target"]
    sni = f", SNI {t['sni']}" if t.get("sni") else ", no SNI"
    out.append(f"{t['host']}:{t['port']} (address {t['address']}{sni}), probed {doc['probed_at']}")
    out.append(f"versions: {', '.join(doc['versions'])}")
    out += _version_lines(doc)
    out += _chain_lines(doc)
    out += _session_lines(doc)
    out += _resumption_lines(doc)
    out += _psk_lines(doc)
    dtls = dtlsfacts.summary_line(doc)
    if dtls:
        out.append(dtls)
    out += _probe_lines(doc)
    return "\n".join(out)
