"""Pre-shared keys in gen (gen --psk-identity ID --psk-key-file FILE): the PSK candidates
a profile's `psk` facts prove, what a header that authenticates the server by the key
alone leaves out, and what the header says about the key.

    PskSpec(identity, key_len, key_file)  the public facts of the key (never the key)
    candidates(doc, rules, line, tls, spec, suite_parts) -> (candidates, rejected)
    is_psk(c, rules)                      a candidate authenticated by the key
    NO_CHAIN                              a PSK-only server's chain needs: none
    psk_only(servers, rules)              every chosen candidate is
    without_certificates(wanted, rules)   wanted with [psk] certificate_only, the clock and
                                          PEM of [base] and the server name left out
    values(spec), duty(spec)              MBEDTLS_PSK_MAX_LEN, TLSFIT_PSK_IDENTITY; the
                                          application's line on mbedtls_ssl_conf_psk()

Only facts the psk step of the probe proved become candidates (a ServerHello naming a
PSK suite proves nothing about the key): TLS 1.2 suites of profile psk.tls12_suites,
TLS 1.3 modes of psk.tls13_modes with the suite psk.tls13_suite.  A PSK candidate is
chosen, beside the certificate ones, by the same cost and policy: psk_ke and plain PSK
have no forward secrecy, like static RSA (rules.toml [kx]).
"""
from dataclasses import dataclass

from ..core.errors import PSK_PROFILE, TlsfitError
from .types import Candidate

# TLS 1.3 key exchange mode -> rules.toml [kx] entry.
TLS13_MODES = {"psk_ke": "TLS13_PSK", "psk_dhe_ke": "TLS13_PSK_DHE"}


@dataclass(frozen=True)
class PskSpec:
    """What gen knows of the device's pre-shared key: its identity, its length and the
    file it was read from (named in the header's commands); never its bytes."""
    identity: str
    key_len: int
    key_file: str

    @classmethod
    def of(cls, psk, key_file):
        """From a core.pskkey.Psk read from key_file."""
        return cls(psk.identity, len(psk.key), str(key_file))


class NoChain:
    """The chain's needs of a server authenticated by a pre-shared key: none."""
    options = {}
    rsa_bits = 0
    ec_bits = 0
    curves = frozenset()
    anchor = None
    leaf = None


NO_CHAIN = NoChain()


def is_psk(c, rules):
    return rules.facts["kx"][c.kx].attrs.get("auth") == "psk"


def psk_only(servers, rules):
    return all(is_psk(c, rules) for s in servers for c in s.chosen)


def facts_for(doc, spec):
    """The profile's psk facts, or TlsfitError(PSK_PROFILE) when it holds none for the
    identity."""
    facts = doc.document.get("psk")
    where = doc.target.hostport
    if facts is None:
        raise TlsfitError(PSK_PROFILE, f"{where}: the profile holds no PSK facts; probe the "
                                       f"server with --psk-identity {spec.identity} "
                                       "--psk-key-file FILE first")
    if facts["identity"] != spec.identity:
        raise TlsfitError(PSK_PROFILE, f"{where}: the profile's PSK facts are for identity "
                                       f"{facts['identity']!r}, not {spec.identity!r}; probe "
                                       "again with this identity")
    return facts


def candidates(doc, rules, line, tls, spec, suite_parts):
    """(PSK candidates, [(what, why)] left out) of one profile.  suite_parts(name, kx)
    -> (row, the facts it needs) or (None, why not): candidates.suite_parts."""
    facts = facts_for(doc, spec)
    found, rejected = [], []
    offered = [("TLSv1.2", s["name"], None) for s in facts["tls12_suites"]]
    if facts["tls13_suite"]:
        offered += [("TLSv1.3", facts["tls13_suite"]["name"], TLS13_MODES[m])
                    for m in facts["tls13_modes"]]
    for version, name, kx13 in offered:
        label = f"{name} ({kx13})" if kx13 else name
        if tls != "auto" and version != f"TLSv{tls}":
            rejected.append((label, f"--tls {tls}"))
            continue
        vf = rules.fact("versions", version, line)
        row, parts = suite_parts(name, kx13)
        why = vf.unsupported or (parts if row is None else
                                 next((p.unsupported for p in parts if p.unsupported), None))
        if why:
            rejected.append((label, why))
            continue
        kx_name, cipher, mac, prf = row
        kx = parts[0].attrs
        groups = [None]
        if kx.get("uses_group"):
            groups = [g for g in _groups(doc, facts, version) if
                      not rules.fact("groups", g, line).unsupported]
            if not groups:
                rejected.append((label, "no group of the server's that mbedTLS has"))
        for g in groups:
            found.append(Candidate(version, name, kx_name, cipher, mac, prf, g, None,
                                   forward_secret=kx.get("forward_secret", True),
                                   aead=rules.facts["ciphers"][cipher].attrs["aead"]))
    return found, rejected


def _groups(doc, facts, version):
    """The groups an ephemeral PSK key exchange can use: TLS 1.3, the one the psk step's
    psk_dhe_ke handshake used; TLS 1.2, the groups the server accepts."""
    if version == "TLSv1.3":
        return [facts["tls13_group"]] if facts.get("tls13_group") else []
    return list(doc.groups(version)) if version in doc.versions else []


def without_certificates(wanted, rules):
    """wanted without what only certificate authentication needs ([psk] certificate_only,
    [base] time and pem) and without the server name (SNI needs X.509 in mbedTLS)."""
    gone = set(rules.psk.get("certificate_only", ())) | set(rules.base["time"]) | \
        set(rules.base["pem"]) | set(rules.base["sni"])
    return {k: v for k, v in wanted.items() if k not in gone}


def values(spec):
    """{name: (value, why)} a PSK header defines."""
    ident = spec.identity.replace("\\", "\\\\").replace('"', '\\"')
    return {
        "MBEDTLS_PSK_MAX_LEN": (str(spec.key_len), f"the pre-shared key is {spec.key_len} bytes "
                                                   "(mbedTLS sizes its PSK buffers by this)"),
        "TLSFIT_PSK_IDENTITY": (f'"{ident}"', "the PSK identity the server knows (the key "
                                              "itself is never in this header)"),
    }


def duty(spec):
    """The application's line on configuring the key."""
    return ("before mbedtls_ssl_setup(): mbedtls_ssl_conf_psk(&conf, key, key_len, (const "
            "unsigned char *) TLSFIT_PSK_IDENTITY, strlen(TLSFIT_PSK_IDENTITY)) with the "
            f"{spec.key_len}-byte key read at run time from the device's protected storage "
            "(a secure element, an OTP or a provisioned flash page), never compiled into the "
            "image; wipe the copy with mbedtls_platform_zeroize() once it is set")


def no_sni_warning(rules, doc):
    """The header's word on the server name a PSK header does not send, or None."""
    return rules.psk["no_sni"] if doc.target.sni else None
