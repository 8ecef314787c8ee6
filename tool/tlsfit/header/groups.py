"""The groups the handshake offers, in order (TLSFIT_GROUPS, 2.28: TLSFIT_CURVES): the
chosen key exchange groups and, for TLS 1.2 with an EC certificate key, its curve.
Without the list mbedTLS offers every curve the header enables, in its own order."""
from .servers import whose


GROUP_PIN = {"2.28": ("TLSFIT_CURVES", "ecp_id", "MBEDTLS_ECP_DP_NONE",
                      "static const mbedtls_ecp_group_id tlsfit_curves[] = { TLSFIT_CURVES }; "
                      "mbedtls_ssl_conf_curves(&conf, tlsfit_curves)"),
             "3.6": ("TLSFIT_GROUPS", "iana_id", "MBEDTLS_SSL_IANA_TLS_GROUP_NONE",
                     "static const uint16_t tlsfit_groups[] = { TLSFIT_GROUPS }; "
                     "mbedtls_ssl_conf_groups(&conf, tlsfit_groups)")}


def pinned_groups(chosen, chain):
    """[(group, why)] the handshake must offer, in order: the chosen key exchange groups,
    then, for TLS 1.2 with an EC leaf key, the leaf's curve (TLS 1.2 checks the server's
    certificate key against the same list).  Without the pin mbedTLS offers every
    curve the header enables, in its own order, and the server may pick another."""
    out = []
    for c in chosen:
        if c.group and c.group not in [g for g, _ in out]:
            out.append((c.group, "the chosen key exchange"))
    leaf = chain.leaf["key"] if chain.leaf else {}
    leaf_curve = leaf.get("curve") if leaf.get("type") == "ec" else None
    if out and leaf_curve and any(c.version == "TLSv1.2" for c in chosen) and \
            leaf_curve not in [g for g, _ in out]:
        out.append((leaf_curve, "the server's certificate key (TLS 1.2 checks it against "
                                "this list)"))
    return out


def joint_pinned(servers):
    """pinned_groups over several servers: the groups chosen for more servers first (a
    TLS 1.3 client sends its key share for the first), then each TLS 1.2 server's EC
    certificate curve."""
    if len(servers) == 1:
        return pinned_groups(servers[0].chosen, servers[0].chain)
    users = {}                                    # group -> [Server], first-seen order
    for s in servers:
        for c in s.chosen:
            if c.group and s not in users.setdefault(c.group, []):
                users[c.group].append(s)
    order = sorted(users, key=lambda g: -len(users[g]))
    out = [(g, f"the chosen key exchange of {whose(users[g], len(servers))}") for g in order]
    for s in servers:
        key = s.chain.leaf["key"] if s.chain.leaf else {}
        curve = key.get("curve") if key.get("type") == "ec" else None
        if out and curve and any(c.version == "TLSv1.2" for c in s.chosen) and \
                curve not in [g for g, _ in out]:
            out.append((curve, f"the certificate key of {s.who} (TLS 1.2 checks it against "
                               "this list)"))
    return out


def group_pin(servers, rules, line):
    """{TLSFIT_CURVES or TLSFIT_GROUPS: (list, reason)} pinning what the handshake offers."""
    groups = joint_pinned(servers)
    if not groups:
        return {}
    name, attr, end, _ = GROUP_PIN[line]
    ids = [rules.facts["groups"][g].attrs[attr] for g, _ in groups] + [end]
    why = "; ".join(f"{g}: {w}" for g, w in groups)
    return {name: (", ".join(ids), f"the groups to offer, in order ({why}); without the "
                                   "list mbedTLS offers every curve enabled here, in its own "
                                   "order, and the server may choose another")}
