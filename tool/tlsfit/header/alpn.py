"""The application protocols (ALPN) a header offers, as values and duties.

TLSFIT_ALPN is every server's protocols together: what tlsfit's verify client and test
firmware (tool/harness/harness.h tf_harness_conf) offer each server, so what verify,
measure and fit prove.  mbedTLS keeps one list per mbedtls_ssl_config
(mbedtls_ssl_conf_alpn_protocols), and a macro cannot differ per server; so when a
device's servers are offered different lists (a device file's per-server `alpn`, or one
server that requires ALPN beside one that does not) the header also defines
TLSFIT_ALPN_<n>, server n's own list, for the configuration of the connection to server n
(no macro: that server is offered none of its own).  One server, or the same list for
every server: TLSFIT_ALPN alone, as before.
"""
from .optionsets import offered_protocols


def c_strings(protocols):
    """"h2", "http/1.1": the names as C string literals, comma-separated."""
    return ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in protocols)


def per_server(servers, opts):
    """[(server, its protocols, why)] in the servers' order (() and None: none)."""
    return [(s, *offered_protocols(s.doc, opts, s.index)) for s in servers]


def differs(rows):
    """True when the servers are not all offered the same list."""
    return len({tuple(p) for _, p, _ in rows}) > 1


def alpn_values(servers, opts):
    """{TLSFIT_ALPN: (the union, why)} and, when the servers' lists differ,
    TLSFIT_ALPN_<n> for every server n offered a list of its own."""
    rows = per_server(servers, opts)
    union, reasons = [], []
    for s, mine, why in rows:
        union += [p for p in mine if p not in union]
        if why and why not in reasons:
            reasons.append(why if len(servers) == 1 else f"{s.doc.target.hostport}: {why}")
    several = differs(rows)
    values = {"TLSFIT_ALPN": (c_strings(union), (
        "every server's protocols: tlsfit verify and measure offer this list to each server; "
        "per connection use TLSFIT_ALPN_<n> (below)" if several else
        "pass { TLSFIT_ALPN, NULL } to mbedtls_ssl_conf_alpn_protocols() before "
        "mbedtls_ssl_setup()") + "; " + "; ".join(reasons))}
    if several:
        for s, mine, why in rows:
            if mine:
                values[f"TLSFIT_ALPN_{s.index}"] = (c_strings(mine), (
                    f"{s.who} only: pass {{ TLSFIT_ALPN_{s.index}, NULL }} to "
                    "mbedtls_ssl_conf_alpn_protocols() on the configuration of the connection "
                    f"to it; {why}"))
    return values


def alpn_duties(servers, values):
    """What the application calls to offer the header's protocols."""
    if "TLSFIT_ALPN" not in values:
        return []
    if not any(name.startswith("TLSFIT_ALPN_") for name in values):
        return ["before mbedtls_ssl_setup(): static const char *alpn[] = { TLSFIT_ALPN, "
                "NULL }; mbedtls_ssl_conf_alpn_protocols(&conf, alpn); (offers "
                f"{values['TLSFIT_ALPN'][0]})"]
    out = []
    for s in servers:
        name = f"TLSFIT_ALPN_{s.index}"
        if name in values:
            out.append(f"for {s.who}, before its mbedtls_ssl_setup(): static const char "
                       f"*alpn_{s.index}[] = {{ {name}, NULL }}; "
                       f"mbedtls_ssl_conf_alpn_protocols(&conf, alpn_{s.index}); (offers "
                       f"{values[name][0]})")
        else:
            out.append(f"for {s.who}: no ALPN of its own (a configuration without "
                       "mbedtls_ssl_conf_alpn_protocols(), or TLSFIT_ALPN as tlsfit verified)")
    out.append("mbedTLS reads the ALPN list from the mbedtls_ssl_config during the handshake: "
               "connections that overlap need one configuration each; tlsfit verify, measure "
               f"and fit offered every server TLSFIT_ALPN ({values['TLSFIT_ALPN'][0]})")
    return out
