"""`tlsfit gen`: render the smallest mbedTLS configuration for a probed server."""
import json
import sys
from pathlib import Path

from ..core import paths
from ..core.errors import PLATFORM, PROFILE, TlsfitError
from ..core.identity import ClientIdentity
from ..header import anchor as anchor_mod, gen
from ..header import platforms
from ..header.commands import regenerate_command
from ..header.explain import explain
from ..header.platforms import outputs
from ..header.refit import repo_name
from ..header import refit
from ..header.costs import load_costs
from ..header.policy import POLICIES
from ..header.types import ECC_CHOICES, NO_OVERRIDES, TLS_CHOICES, GenOptions
from ..mbedtls.tree import LINES, default_line, open_tree, user_tree
from ..profile import model
from . import gen4, pskargs
from .common import alpn_list

HELP = """\
Renders tls_config.h: the smallest mbedTLS configuration that can talk to the
server in a profile (from `tlsfit probe`), every option commented with the
server fact that needs it.  Use it as MBEDTLS_CONFIG_FILE.

PROFILE is a profile file, a name in profiles/ (profiles/NAME.json), or omitted
for the last probe.  Several PROFILEs (a device that talks to an MQTT broker, an
OTA host, a provisioning endpoint, ...) give ONE header that serves them all.  The header goes to stdout, or atomically to -o FILE.  A
server mbedTLS cannot talk to (Ed25519-only certificates, only FFDHE groups,
only suites outside mbedTLS, TLS 1.3-only with --mbedtls 2.28, ...) is refused
with the reason and exit 38; no header is written.

How it chooses: every (version, suite, group, signature scheme) the server
accepts is costed by the flash of the mbedTLS objects it needs; the policy
filters, the cheapest wins.  Sizes: MBEDTLS_SSL_IN_CONTENT_LEN from the largest
record the server sent, MBEDTLS_MPI_MAX_SIZE from the largest key in the chain
including the trust anchor.  Rules: tool/tlsfit/header/rules.toml.

Several servers: the policy applies to each; then one candidate per server is
chosen so that the UNION of their options costs least (a suite, cipher or group
every server accepts is paid once, so it wins), keeping in mind that each server
negotiates the highest TLS version it shares with the header.  Sizes are the
maximum over the servers (largest record, largest key including every trust
anchor), the group list and MBEDTLS_SSL_CIPHERSUITES the union; every option's
comment names the server(s) that need it, and the header lists every trust
anchor to load and one `tlsfit verify` per server.  A server that cannot be
served is refused by number and address ("server 2 (ota.example.com:443): ...").

A server that asks for a client certificate (mutual TLS: AWS IoT Core, Azure
IoT Hub, mosquitto with require_certificate true): --client-cert FILE (the
device's certificate; no key needed) adds exactly what signing with its key
needs -- the key's parser (key type, curve), what parsing the certificate
itself needs, the signature mbedTLS will make (ECDSA for an EC key; RSA
PKCS#1 v1.5 in TLS 1.2, RSA-PSS in TLS 1.3), which must be one the server's
CertificateRequest allows (exit 38 naming it otherwise), and
MBEDTLS_MPI_MAX_SIZE for an RSA key; the preamble says how the application
loads the certificate and key (mbedtls_pk_parse_key, or an opaque PSA key for
a key in a secure element).

A CA certificate of the server's chain as the device's trust anchor (typically
an intermediate): --anchor CERT (PEM or DER).  The chain above CERT is then never
verified on the device, so the header needs only the keys, signatures and hashes
of the path leaf -> CERT: a P-384 or RSA-4096 root above a P-256 intermediate no
longer brings P-384 or a 4096-bit MPI (parsing CERT still needs its own signature
algorithm), and an all-P-256 path below it allows --ecc p256m.  CERT must be one
of the certificates the profile recorded on the path (matched by SHA-256), else
exit 50 naming what it is to the chain.  The header states the trade-off: the
device trusts anything CERT signs for the server's name until CERT expires; the
root's constraints and expiry are never checked; revoking CERT does not reach
the device, and a server that moves to another intermediate needs a device
update.  Its verify line names --ca CERT (CERT the only CA).

policies:
  default   forward secrecy and AEAD preferred; static RSA / CBC only when the
            server offers nothing better (with a warning in the header)
  strict    static RSA, CBC and SHA-1 certificate signatures refused
  compat    default + a second suite and group, so a server-side change does not
            brick a fleet

Into your platform (--for; docs/platforms.md):
  mbedtls           tls_config.h, the whole configuration (the default)
  esp-idf           -o PROJECT_DIR: sdkconfig.defaults (CONFIG_MBEDTLS_* symbols) and
                    tlsfit_user_config.h (MBEDTLS_USER_CONFIG_FILE: the #undef/#define
                    lines Kconfig cannot say), each line with the fact that needs it;
                    ranked as on the ESP32's hardware (--rank-for esp-idf); ESP-IDF
                    v5.x with --mbedtls 3.6, v6.x with --mbedtls 4.0 (exit 53 otherwise)
  zephyr            -o APP_DIR: prj.conf and tlsfit_user_config.h
                    (CONFIG_MBEDTLS_USER_CONFIG_FILE)
  zephyr-cfg-file   -o APP_DIR: prj.conf naming tls_config.h as CONFIG_MBEDTLS_CFG_FILE,
                    and tls_config.h
  Each fragment names the platform versions it was checked on and the line to add
  to the project's CMakeLists.txt so that the build finds the second file
  (docs/platform-matrix.md: the checked matrix).
  rt-thread         tls_config.h with RT-Thread's port lines (#include <rtthread.h>,
                    tls_malloc/tls_free) in a marked block that regenerating keeps:
                    from --port-lines FILE, else from the existing -o FILE, else
                    RT-Thread's usual lines
The symbol mappings are data: tool/tlsfit/header/platforms/*.toml.  Exit 49 when
the output cannot be written as asked (two files and no -o DIR, ...); exit 53 when
the platform ships no release with the header's mbedTLS line.

Write with -o: the file appears only when gen succeeds.  A shell redirect
(gen > tls_config.h) truncates the file before gen runs, so a refusal leaves it
empty.  The header's "Regenerate" line is the command that renders it again,
byte for byte, run from the repository root.

examples:
  ./tlsfit probe broker.example.com:8883 --save broker && ./tlsfit gen broker -o tls_config.h
  ./tlsfit gen broker --for esp-idf -o .         # sdkconfig.defaults + tlsfit_user_config.h (project dir)
  ./tlsfit gen broker --for rt-thread -o tls_config.h    # keeps its port lines
  ./tlsfit gen profiles/broker.json --mbedtls 2.28 -o tls_config.h
  ./tlsfit gen --explain            # why each option is on or off
  ./tlsfit gen broker ota -o tls_config.h   # one header for profiles/broker.json
                                            # and profiles/ota.json
  ./tlsfit verify --config tls_config.h broker.example.com:8883   # prove it
  ./tlsfit gen --client-cert device.pem -o tls_config.h   # mutual TLS
  ./tlsfit gen broker --anchor broker-intermediate.pem -o tls_config.h
  ./tlsfit gen broker --external-rng -o tls_config.h     # the TRNG feeds mbedTLS directly
  ./tlsfit gen broker --resume -o tls_config.h   # resume sessions as the server was seen to
  ./tlsfit gen broker --mbedtls 4.0 -o tls_config.h   # Mbed TLS 4.x: tls_config.h and
                                                      # tls_config_crypto.h (docs/gen.md)
"""


def configure(p):
    p.add_argument("profile", nargs="*", metavar="PROFILE",
                   help="profile file or name in profiles/ (default: the last probe); "
                        "several: one header for all of those servers")
    p.add_argument("--mbedtls", choices=tuple(dict.fromkeys((*LINES, gen4.LINE))),
                   help="mbedTLS line (default: the line of the mbedTLS tree in use, else "
                   "3.6); 4.0: two files, X.h and X_crypto.h (docs/gen.md)")
    p.add_argument("--policy", choices=tuple(POLICIES), default="default",
                   help="which of the server's choices may be used (default: default)")
    p.add_argument("--tls", choices=TLS_CHOICES, default="auto",
                   help="TLS version: auto picks the cheaper one the server accepts")
    p.add_argument("--no-time", action="store_true",
                   help="no clock on the device: certificate validity dates are NOT checked "
                        "(the header says so)")
    p.add_argument("--pem", action="store_true",
                   help="keep PEM parsing (default: the trust anchor is embedded as DER)")
    p.add_argument("--ecc", choices=ECC_CHOICES, default="builtin",
                   help="p256m: driver-only P-256 -- ECDH and ECDSA through PSA with the p256-m "
                        "driver, without mbedTLS's ECP, bignum, ECDH and ECDSA code (3.6; when "
                        "every key, signature and key exchange on the path to the anchor is "
                        "P-256, else the built-in code stays and the header says why); "
                        "`tlsfit fit` measures both and keeps the smaller (default: builtin)")
    p.add_argument("--alpn", type=alpn_list, metavar="PROTO[,PROTO]", default=(),
                   help="the application protocols (ALPN) the device offers every server, "
                        "e.g. x-amzn-mqtt-ca for AWS IoT Core's MQTT on port 443: "
                        "MBEDTLS_SSL_ALPN and TLSFIT_ALPN, the list to pass to "
                        "mbedtls_ssl_conf_alpn_protocols() (default: only when the profile "
                        "says the server requires ALPN, `probe --alpn`)")
    p.add_argument("--external-rng", action="store_true",
                   help="the device's TRNG feeds mbedTLS directly: no entropy module and no "
                        "DRBG (with PSA Crypto, MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG and the "
                        "application's mbedtls_psa_external_get_random(); without it, the "
                        "application's f_rng through mbedtls_ssl_conf_rng()); the header says "
                        "exactly what the application owes (default: off, the entropy module "
                        "polls mbedtls_hardware_poll())")
    p.add_argument("--resume", action="store_true",
                   help="session resumption: for the version the header negotiates, the "
                        "cheapest way the probe saw the server resume (TLS 1.2 session ID, "
                        "TLS 1.2 ticket, TLS 1.3 ticket), its options, TLSFIT_RESUME and "
                        "TLSFIT_RESUME_MODE, and what the application owes; exit 38 when the "
                        "server resumes in no way the header can use, 54 when the profile "
                        "cannot tell (re-probe) (default: off)")
    p.add_argument("--explain", action="store_true",
                   help="print every option considered, on/off, why and its flash cost "
                        "(instead of the header on stdout; beside it with -o)")
    pskargs.add(p)
    p.add_argument("--json", action="store_true",
                   help="print the decision (chosen candidate, options, values) as JSON")
    p.add_argument("--client-cert", metavar="FILE",
                   help="the device's certificate (PEM or DER; no key needed): for a server that "
                        "asks for a client certificate, add what signing with its key needs")
    p.add_argument("--anchor", metavar="CERT",
                   help="a CA certificate of the server's chain (PEM or DER; typically the "
                        "intermediate) as the device's only trust anchor: nothing above it is "
                        "configured or verified on the device (the header states the "
                        "trade-off); exit 50 when it is not on the recorded path")
    p.add_argument("--for", dest="platform", choices=outputs.FORMATS, default="mbedtls",
                   help="what to write: the whole header (mbedtls, the default), or the "
                        "platform's own form (esp-idf, zephyr, zephyr-cfg-file: two files, "
                        "-o DIR; rt-thread: the header with its port lines kept)")
    p.add_argument("--rank-for", choices=platforms.RANKED,
                   help="rank candidates by that platform's own costs (esp-idf: AES, GCM "
                        "and SHA run in the ESP32's hardware and count as no flash); "
                        "implied by --for esp-idf, so this gives its bare-metal header")
    p.add_argument("--port-lines", metavar="FILE",
                   help="--for rt-thread: the port lines (#include <rtthread.h>, tls_malloc "
                        "...) to keep in the header's marked block")
    p.add_argument("--fit-report", metavar="FILE",
                   help="a fit's report.json: apply its removals, knob settings and sizes "
                        "(with the fit's copy of the profile: renders its tls_config.h again)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the header here, atomically (nothing is written when gen "
                        "refuses); a directory for the two-file --for outputs")


def resolve_profile(arg):
    """PROFILE argument -> (path, display name)."""
    if arg is None:
        path = paths.last_profile_path()
        if not path.exists():
            raise TlsfitError(PROFILE, "no profile given and no last probe: run "
                                       "`tlsfit probe HOST[:PORT]` first, or name a profile")
        return path, repo_name(path)
    p = Path(arg)
    if p.exists() or "/" in arg or arg.endswith(".json"):
        return p, repo_name(p)
    named = paths.profiles_dir() / f"{arg}.json"
    if named.exists():
        return named, repo_name(named)
    raise TlsfitError(PROFILE, f"{arg}: no such profile file, and no profiles/{arg}.json")


def platform_tree(line):
    """The tree whose default configuration the platform model starts from: the user's
    tree when it is of the header's line, else the set-up cache's tree of that line
    (gen's --mbedtls names the header's line; a tree of the other line only builds)."""
    t = user_tree()
    if t is not None and t.line == line:
        return t
    return open_tree(paths.cache_dir() / f"mbedtls-{line}", "the set-up cache")


def port_lines(args):
    """The rt-thread port lines: --port-lines FILE, else the block of the existing
    output file, else None (RT-Thread's usual lines)."""
    if args.port_lines and args.platform != "rt-thread":
        raise TlsfitError(PLATFORM, "--port-lines is for --for rt-thread")
    if args.port_lines:
        try:
            return Path(args.port_lines).read_text().rstrip("\n").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise TlsfitError(PLATFORM, f"--port-lines {args.port_lines}: cannot read it "
                                        f"({getattr(e, 'strerror', None) or e})") from None
    if args.platform == "rt-thread" and args.output and Path(args.output).is_file():
        return outputs.port_block(Path(args.output).read_text(errors="replace"))
    return None


def write_outputs(out, target, quiet=False):
    """Writes an outputs.Output: one file to `target` (a file), several into `target`
    (a directory, created).  Returns the paths written."""
    if len(out.files) == 1:
        text, = out.files.values()
        return [paths.write_atomic(target, text)]
    d = Path(target)
    if d.exists() and not d.is_dir():
        raise TlsfitError(PLATFORM, f"-o {target}: is a file; this output is "
                                    f"{len(out.files)} files ({', '.join(out.files)}): "
                                    "give a directory")
    return [paths.write_atomic(d / name, text) for name, text in out.files.items()]


def plan_json(plan):
    """The decision as JSON.  Several servers: the top-level keys are the joint header's
    (target lists every server, chosen every chosen candidate), and `servers` gives each
    server's target, profile, chosen candidates and the command that proves it."""
    doc = {"target": plan.target, "mbedtls": plan.line, "policy": plan.policy,
           "chosen": [vars(c) for c in plan.chosen],
           "options": plan.options, "values": {k: v[0] for k, v in plan.values.items()},
           "ciphersuites": plan.ciphersuites, "warnings": plan.warnings,
           "duties": plan.duties, "flash_estimate": plan.cost}
    if plan.facts.get("client"):
        doc["client"] = plan.facts["client"]
    if plan.facts.get("ecc_note"):                  # gen --ecc p256m
        doc["ecc"] = {"code": plan.facts["ecc"], "why": plan.facts["ecc_note"]}
    if plan.facts.get("anchoring"):                 # gen --anchor CERT
        doc["anchor"] = dict(plan.facts["anchoring"], trade_off=plan.facts["anchor_note"])
    if plan.facts.get("rng"):                       # gen --external-rng
        doc["rng"] = plan.facts["rng"]
    if plan.facts.get("resume"):                    # gen --resume
        doc["resumption"] = plan.facts["resume"]
    if len(plan.servers) > 1:
        by_label = {c.label(): vars(c) for c in plan.chosen}
        doc["servers"] = [dict(s, chosen=[by_label[label] for label in s["chosen"]])
                          for s in plan.servers]
    return doc


def _rng_how(plan):
    return ("mbedtls_psa_external_get_random()" if plan.facts["rng"]["via"] == "psa"
            else "an f_rng for mbedtls_ssl_conf_rng()")


def run(args):
    resolved = [resolve_profile(a) for a in (args.profile or [None])]
    docs = [model.read(path, name) for path, name in resolved]
    client = ClientIdentity.load(args.client_cert) if args.client_cert else None
    line = args.mbedtls or default_line()
    lines = port_lines(args)
    anchor = anchor_mod.AnchorCert.load(args.anchor, repo_name(args.anchor)) \
        if args.anchor else None
    opts = GenOptions(line=line, policy=args.policy, tls=args.tls,
                      time=not args.no_time, pem=args.pem, client=client, ecc=args.ecc,
                      anchor=anchor, external_rng=args.external_rng, alpn=args.alpn,
                      resume=args.resume, psk=pskargs.spec(args))
    names = [name for _, name in resolved]
    overrides = NO_OVERRIDES
    if args.fit_report:
        report = refit.read_report(args.fit_report)
        opts = refit.apply(opts, report, args.fit_report)
        overrides = refit.overrides(report, args.fit_report)
    _, _, opts = gen.anchored(docs, opts)          # exit 50 here when CERT is on no path
    if args.anchor and opts.anchor is None:
        print(f"tlsfit: note: --anchor {args.anchor} is already the trust anchor of the "
              "profile: the header is the one without --anchor", file=sys.stderr)
    extra = refit.extra_args(args.fit_report, args.platform, args.port_lines)
    # --for esp-idf ranks as on the hardware, unless a fit's measured choice applies
    rank = args.rank_for or (args.platform if args.platform in platforms.RANKED and
                             not args.fit_report else None)
    if args.rank_for and args.platform != args.rank_for:
        extra += ("--rank-for", args.rank_for)
    command = regenerate_command(names, opts, extra)
    costs = platforms.ranked_costs(rank, load_costs()) if rank else None
    if line == gen4.LINE:
        return gen4.run4(args, docs, names, opts, command, costs, ranked=rank == args.platform,
                         overrides=overrides)
    plan = gen.generate_device(docs, opts, profile_names=names, overrides=overrides,
                               command=command, costs=costs)
    tree = platform_tree(line) if args.platform in outputs.MODELLED else None
    out = outputs.files(plan, args.platform, tree, command, lines, ranked=rank == args.platform)
    if len(out.files) > 1 and not args.output and not (args.json or args.explain):
        raise TlsfitError(PLATFORM, f"--for {args.platform} writes {len(out.files)} files "
                                    f"({', '.join(out.files)}): give -o DIR")
    if resolved[0][0] == paths.last_profile_path() and not args.json:
        print(f"tlsfit: note: the header names {names[0]}, which the next probe "
              "overwrites; keep the profile (tlsfit probe ... --save NAME) and gen from "
              "profiles/NAME.json for a header that can be regenerated", file=sys.stderr)
    if args.output:
        written = write_outputs(out, args.output)
        chosen = " + ".join(" / ".join(s["chosen"]) for s in plan.servers) \
            if len(plan.servers) > 1 else plan.chosen[0].label()
        print(f"tlsfit: wrote {', '.join(str(w) for w in written)}: {chosen} "
              f"(~{plan.cost // 1024} KiB of mbedTLS objects before link-time pruning)",
              file=sys.stderr)
        if plan.facts.get("rng"):
            print(f"tlsfit: --external-rng is on: no entropy module or DRBG; the application "
                  f"owes the TRNG function its header names ({_rng_how(plan)})", file=sys.stderr)
    for w in plan.warnings:
        print(f"tlsfit: warning: {w}", file=sys.stderr)
    if args.json:
        doc = plan_json(plan)
        if out.translation is not None:
            t = out.translation
            doc["platform"] = {"name": args.platform, "files": list(out.files),
                               "kconfig": {st.symbol: st.value for st in t.settings},
                               "overlay": [{"op": op, "name": n, "value": v, "why": w}
                                           for op, n, v, w in t.overlay]}
        print(json.dumps(doc, indent=2))
    elif args.explain:
        sys.stdout.write(explain(plan))
    elif not args.output:
        sys.stdout.write(next(iter(out.files.values())))
    return 0
