"""Driver-only ECC (gen --ecc p256m, 3.6): when every key on the path to the anchor, every
chosen group and signature scheme is on the driver's curves (driver_only_blocker), the
legacy options the driver `provides` leave the wanted set, its own options (per version
and record cipher) join it, the closure treats requirements on the provided options as
met, and rules.toml [[defects]] with a `route` add what works around mbedTLS's own gaps
(routes).  Otherwise the built-in code stays, and the header's "ECC:" line says why."""
from .chain import label, roles
from .wants import need


DRIVER_ONLY = ("driver-only P-256: ECDH and ECDSA through PSA with the p256-m driver (no "
               "legacy ECP, bignum, ECDH or ECDSA code)")


def choose_ecc(servers, opts, rules):
    """(Driver or None, the header's ECC note): the p256-m driver when asked for and every
    key, signature and key exchange of every server is on its curves; else None and why
    the built-in code stays ("" when the built-in code was not asked to go)."""
    if opts.ecc == "builtin":
        return None, ""
    driver = rules.drivers["p256m"]
    why = driver_only_blocker(servers, driver, rules, opts)
    if why:
        return None, f"built-in ECC code kept (--ecc {opts.ecc} asked for driver-only P-256): {why}"
    return driver, DRIVER_ONLY


def driver_only_blocker(servers, driver, rules, opts):
    """Why a driver (rules.toml [drivers]) cannot take the place of the built-in ECC code
    for these servers, or None: every certificate key on the path to the anchor and the
    anchor's on its curves (no RSA, so no bignum), every chosen group and signature scheme
    too, records through PSA with a cipher it lists, no device identity."""
    if opts.line != driver.line:
        return f"the driver is in mbedTLS {driver.line} only"
    if opts.client is not None and any(s.doc.client_cert_requested for s in servers):
        return "the device's own key is not routed through PSA by tlsfit yet"
    for s in servers:
        who = f"{s.who}: " if len(servers) > 1 else ""
        for cert, role, _ in roles(list(s.doc.path), s.doc.trust_anchor):
            key = cert["key"]
            if key["type"] != "ec" or key.get("curve") not in driver.curves:
                what = f"RSA-{key.get('bits')}" if key["type"] == "rsa" else \
                    f"{key.get('curve') or key['type']}"
                article = "an" if key["type"] == "rsa" else "a"
                return (f"{who}{label(cert, role)} has {article} {what} key (the driver "
                        f"does only {', '.join(driver.curves)})")
        for c in s.chosen:
            curve = rules.facts["groups"][c.group].attrs["curve"] if c.group else None
            sig = rules.facts["sigalgs"][c.sigalg].attrs if c.sigalg else {}
            if "PSK" in c.kx.split("_"):
                return (f"{who}suite {c.suite} authenticates with a pre-shared key, which "
                        "tlsfit does not route through the driver")
            if c.kx not in ("TLS13", "ECDHE_ECDSA"):
                return f"{who}suite {c.suite} needs RSA or finite-field DH"
            if curve not in driver.curves:
                return f"{who}the key exchange is on {c.group}, not {', '.join(driver.curves)}"
            if sig and sig.get("curve") not in driver.curves:
                return f"{who}the server signs with {c.sigalg}"
            if c.cipher not in driver.ciphers:
                return f"{who}records with {c.cipher} are not routed through PSA by tlsfit"
    return None


def driver_wants(wanted, driver, servers, rules):
    """wanted without what the driver provides or drops, with what it needs."""
    out = {k: v for k, v in wanted.items() if k not in driver.provides and k not in driver.drops}
    need(out, driver.options, DRIVER_ONLY)
    for s in servers:
        for c in s.chosen:
            need(out, driver.versions.get(c.version, ()),
                 f"driver-only P-256 with {c.version}: its key derivation through PSA")
            need(out, driver.ciphers[c.cipher],
                 f"driver-only P-256: suite {c.suite}'s records through PSA "
                 "(MBEDTLS_USE_PSA_CRYPTO)")
    return out


def routes(enabled, servers, rules, line, cost, provided):
    """enabled with the options rules.toml [[defects]] route a defect around with, for
    every chosen version whose option set meets the defect."""
    versions = {c.version for s in servers for c in s.chosen}
    changed = True
    while changed:
        changed = False
        for d in rules.defects:
            if not d.route or d.line != line or d.version not in versions:
                continue
            if all(o in enabled for o in d.all) and not any(o in enabled for o in d.none) \
                    and not all(o in enabled for o in d.route):
                need(enabled, d.route, f"mbedTLS defect routed around: {d.reason}")
                enabled = rules.closure(enabled, line, cost, provided)
                changed = True
    return enabled
