"""`tlsfit fit`: search for the smallest verified configuration on a Cortex-M target."""
import json
import os
import sys

from ..core import proof
from ..core.errors import REGRESSION, USAGE, TlsfitError
from ..fit import artifacts, budget, device, line4, lto, search, resume as fit_resume
from ..fit.objective import OBJECTIVES
from ..fit.report import summary_lines
from ..header.types import GenOptions
from ..header.platforms import outputs
from ..header.policy import POLICIES
from ..mbedtls.configfiles import two_files
from ..mbedtls.tree import LINES, default_line
from ..target import timings
from ..target.lto import lto_mode
from . import gen4, pskargs
from .common import add_client_args, alpn_list, int_range

HELP = """\
Probes the server, builds candidate configurations, measures each with a real
handshake under QEMU (tlsfit measure), keeps only verified ones, tries smaller
output buffers (MBEDTLS_SSL_OUT_CONTENT_LEN 256, 512), then removes options one
at a time while the handshake still verifies (1-minimal).  Writes
DIR/tls_config.h, DIR/profile.json (the profile it was fitted to; several
servers: profile-N.json), DIR/report.md (for a pull request) and DIR/report.json
(paths in it relative to DIR; schema_version, tlsfit_version, mbedtls_tree,
build {compiler, flags}, date).  The header's Regenerate line renders it again
from DIR alone: tlsfit gen DIR/profile.json ... --fit-report DIR/report.json.
--for esp-idf|zephyr|zephyr-cfg-file|rt-thread also writes the platform's files
into DIR/PLATFORM/ (as tlsfit gen --for).  --mbedtls 4.0 fits the two 4.x
files: DIR/tls_config.h and DIR/tls_config_crypto.h (TF_PSA_CRYPTO_CONFIG_FILE),
every candidate measured with both; the ablation removes mbedTLS 3.6 option
names, translated by gen; with --for esp-idf it writes ESP-IDF v6's files of
that pair (--for zephyr, zephyr-cfg-file and rt-thread are refused there, exit 59,
before anything is probed).

objectives:
  rom       smallest flash            heap   smallest peak heap
  ram       smallest heap+stack+static speed  fewest handshake instructions
  balanced  ROM, heap and instructions, each relative to the best seen (default)
  reconnect fewest instructions for 1 full + N resumed handshakes
            (--reconnects N, default 10; needs --resume)

--resume: the device resumes sessions.  Every candidate is made with gen
--resume and measured with a second connection that resumes the first one's
session (TLS 1.2 session ID or ticket, TLS 1.3 ticket, as the server offers);
a candidate counts only when the server accepts the resumption.  report.json
gains resumption (mode, accepted, full and resumed: handshake instructions,
heap peak, bytes sent and received) and report.md shows them side by side.

Verified means the server accepted the session: after each handshake the
firmware reads the server's post-handshake flight and completes one exchange
(--proof), so a server that rejects the client after the handshake (a broker
that requires a client certificate, say) fails the candidate with its alert
named, the mbedTLS default beside it too.

Several servers, one header (a device that talks to an MQTT broker and an OTA
host): name them all, or list them in a device file.  The search prefers the
suite, group and signature schemes that serve every server (one AEAD for both
beats two), then the union of what is left; sizes are the maxima (the largest
record, the largest key including every trust anchor).  Every header is
measured against every server and counts only when every server verifies; the
ablation keeps a removal only when every server still verifies; the final
header and the default are measured against each.  report.json gains servers
(each server's handshake and figures, and its own header's) and joint (the
joint header's mbedTLS flash beside the sum and the largest of the servers'
own headers); server and handshake stay the first server's.
  HOST1 HOST2 ...   --sni, --ca (repeatable: one trust store), --proof and
                    --client-cert/--client-key apply to every server
  --device FILE     a TOML file, paths relative to it (exit 43 on a bad field,
                    naming it: "device.toml: server[2].port: expected ..."):
                      target = "cortex-m4"        # optional, as --target
                      [client]                    # optional: the device's identity
                      cert = "device.pem"
                      key  = "device.key"
                      [[server]]
                      host = "broker.example.com" # port (443), sni, ca, proof optional
                      port = 8883
                      ca   = "broker-root.pem"    # a file or a list of files
                      proof = "mqtt"              # as --proof (default by port)
                      alpn = ["x-amzn-mqtt-ca"]   # as --alpn (or "h2,http/1.1")
                      dtls = true                 # as --dtls (port 5684 by default)
                      [[server]]
                      host = "ota.example.com"
                    --proof and --alpn apply to the servers without their own;
                    servers offered different protocols get TLSFIT_ALPN_<n> each

--lto also measures the fitted header with link-time optimisation (mbedTLS and
the harness compiled with -flto -ffat-lto-objects, linked with -flto -Os), against
every server, once the fit is done: report.json gains "lto" (the LTO image's
figures, the plain ones and the change, the build-time cost) and report.md a
table.  The search itself measures plain builds (LTO moves candidates together,
and an LTO link costs ~15 s each); --max-rom and --max-heap judge the plain
figures.  ("--lto both" is the same here: fit always shows both.)

--anchor CERT (a CA certificate of the server's chain, typically the
intermediate; PEM or DER) fits the header with CERT as the device's only trust
anchor, as tlsfit gen --anchor: nothing above CERT is configured, and every
handshake is measured with CERT as the only CA (verification required, the name
checked), so a header counts only when the server accepts the session so.
--ca still names where the probe finds the root (it may be left out: the path to
CERT is built from what the server sends).  DIR/anchor.pem keeps a copy of CERT
for the Regenerate line; report.json "anchor" and report.md state the trade-off
(the device trusts anything CERT signs for the name until CERT expires; nothing
above it is checked; revoking or rotating CERT takes a device update).  CERT not
on the server's path: exit 50, naming what it is to the chain.

A server mbedTLS cannot talk to is refused (exit 38) and no tls_config.h is
written (with several servers the message names each server and what rules it
out); a server that cannot be probed fails with the prober's code, named;
when no candidate verifies (with every server), exit 42.

examples:
  ./tlsfit fit broker.example.com:8883 --target cortex-m4 --out fit-broker
  ./tlsfit fit 127.0.0.1:4433 --sni localhost --ca root.pem --objective rom --json
  ./tlsfit fit 127.0.0.1:18883 --ca broker-root.pem --proof mqtt
  ./tlsfit fit abc123-ats.iot.eu-west-1.amazonaws.com --alpn x-amzn-mqtt-ca --proof mqtt \\
      --client-cert device.pem --client-key device.key   # AWS IoT Core's MQTT on 443
  ./tlsfit fit --device device.toml --objective rom --out fit-device
  ./tlsfit fit 127.0.0.1:4433 --sni localhost --ca root.pem --objective rom --lto
  ./tlsfit fit 127.0.0.1:4433 --sni localhost --ca root.pem --external-rng   # the TRNG, no DRBG
  ./tlsfit fit --profile mosquitto-tls --target cortex-m33   # offline, on its replica
  ./tlsfit fit 127.0.0.1:4433 --sni localhost --ca root.pem --anchor inter.pem
  ./tlsfit fit broker.local:8883 ota.local:443 --ca broker-root.pem --ca ota-root.pem
  ./tlsfit fit --dtls 127.0.0.1:5684 --psk-identity node-3 --psk-key-file node.key
"""


def configure(p):
    p.add_argument("server", metavar="HOST[:PORT]", nargs="*",
                   help="the server(s); port 443 when omitted (several: one header for all)")
    p.add_argument("--device", metavar="FILE",
                   help="a device file (TOML) listing the servers and the identity, instead "
                        "of HOST arguments")
    p.add_argument("--target", help="target in targets/ (default: the device file's, else "
                                    "cortex-m4)")
    p.add_argument("--sni", help="server name to send and check (default HOST)")
    p.add_argument("--ca", action="append", metavar="FILE",
                   help="trust anchor file, repeatable: one trust store for every server "
                        "(default: the system store)")
    p.add_argument("--anchor", metavar="CERT",
                   help="a CA certificate of the server's chain (typically the intermediate) "
                        "as the device's only trust anchor: gen configures nothing above it "
                        "and every handshake has it as the only CA (default: the chain's "
                        "root)")
    add_client_args(p, "the device's certificate (with --client-key), for every server",
                    "the device's private key")
    p.add_argument("--objective", choices=OBJECTIVES, default="balanced")
    p.add_argument("--resume", action="store_true",
                   help="the device resumes sessions: every header is made with gen --resume "
                        "and measured with a second, resuming connection the server must "
                        "accept; report.md shows full vs resumed side by side")
    p.add_argument("--reconnects", type=int_range(1, 1000000, "reconnects"), metavar="N",
                   help="with --objective reconnect: the mix ranked, 1 full + N resumed "
                        f"handshakes (default {fit_resume.DEFAULT_RECONNECTS})")
    p.add_argument("--policy", choices=tuple(POLICIES), default="default")
    p.add_argument("--mbedtls", choices=LINES, help="mbedTLS line (default: as gen)")
    p.add_argument("--candidates", type=int, default=3, metavar="N",
                   help="suites/groups to measure from the cost model's top (default 3; one "
                        "server)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2, metavar="N",
                   help="measurements run at once (default: the number of CPUs)")
    p.add_argument("--no-reuse", dest="reuse", action="store_false",
                   help="run every candidate's handshake under QEMU, even when an identical "
                        "image's result against the same server facts is stored (default: "
                        "reuse it; the final header always runs)")
    p.add_argument("--verbose", action="store_true",
                   help="also print where the fit's time went (report.json \"timings\")")
    p.add_argument("--profile", metavar="NAME|FILE",
                   help="use this profile instead of probing (one server); without a HOST, "
                        "fit against a local replica of it (tlsfit replay), offline")
    p.add_argument("--proof", type=proof.proof_arg,
                   metavar="mqtt|http|no-alert|send:HEX,expect:HEX",
                   help="how every measured session proves the server accepted it (default "
                        "by port: 8883 MQTT CONNECT, 443/8443 HTTP HEAD, else no alert "
                        "within 2 s); a header counts only when the proof passes; with "
                        "--device, for the servers without a proof key")
    p.add_argument("--out", default="fit", metavar="DIR", help="output directory (default fit/)")
    p.add_argument("--for", dest="platform", choices=outputs.FORMATS, default="mbedtls",
                   help="also write the platform's form of the header into DIR/PLATFORM/ "
                        "(esp-idf, zephyr, zephyr-cfg-file, rt-thread; see tlsfit gen --help)")
    p.add_argument("--json", action="store_true", help="print report.json on stdout, nothing else")
    p.add_argument("--lto", nargs="?", const="on", default="off", choices=("on", "off", "both"),
                   help="also measure the fitted header with -flto and report both figures "
                        "(default off)")
    pskargs.add(p)
    p.add_argument("--dtls", action="store_true",
                   help="the servers speak DTLS 1.2 over UDP (default port 5684): probed with "
                        "probe --dtls, every header measured over the firmware's datagram "
                        "relay, CoAP proof on 5684 (docs/fit.md, DTLS)")
    p.add_argument("--alpn", type=alpn_list, metavar="PROTO[,PROTO]", default=(),
                   help="the application protocols (ALPN) the device offers, e.g. "
                        "x-amzn-mqtt-ca for AWS IoT Core's MQTT on port 443: the probe offers "
                        "them in every hello and every header the search measures offers them "
                        "(as gen --alpn)")
    p.add_argument("--external-rng", action="store_true",
                   help="as gen --external-rng: the device's TRNG feeds mbedTLS directly, so "
                        "every header the search measures is without the entropy module and "
                        "DRBG; the header says what the application owes (default off)")
    p.add_argument("--max-rom", type=budget.size_arg, metavar="BYTES",
                   help="budget for mbedTLS's flash (rom_tls_bytes; 64K = 65536): over it, "
                        "the report is still written and fit exits 47")
    p.add_argument("--max-heap", type=budget.size_arg, metavar="BYTES",
                   help="budget for the handshake's peak heap (heap_peak_bytes): over it, exit 47")


def _client(args):
    if bool(args.client_cert) != bool(args.client_key):
        raise TlsfitError(USAGE, "--client-cert and --client-key go together: give both")
    if not args.client_cert:
        return None
    for flag, path in (("--client-cert", args.client_cert), ("--client-key", args.client_key)):
        if not os.path.isfile(path):
            raise TlsfitError(USAGE, f"{flag} {path}: no such file")
    return device.ClientFiles(args.client_cert, args.client_key)


def _what(args):
    """(what to fit: HOST list or Device, its target or None)."""
    if not args.device and not args.server and args.profile:
        return ["replica"], None                  # run() serves the profile's replica
    if not args.device:
        if not args.server:
            raise TlsfitError(USAGE, "name the server(s) (HOST[:PORT] ...) or a device file "
                                     "(--device FILE)")
        return args.server, None
    if args.server:
        raise TlsfitError(USAGE, "give HOST arguments or --device FILE, not both")
    for flag, given in (("--sni", args.sni), ("--ca", args.ca),
                        ("--client-cert", args.client_cert), ("--client-key", args.client_key)):
        if given:
            raise TlsfitError(USAGE, f"{flag} is for HOST arguments; with --device give it in "
                                     f"the device file ([[server]] sni/ca, [client] cert/key)")
    dev = device.load(args.device)
    return dev, dev.target


def run(args):
    fit_resume.check(args.objective, args.resume, args.reconnects)
    what, device_target = _what(args)
    if what == ["replica"]:
        return _run_on_replica(args, device_target)
    return _fit(args, what, device_target)


def _run_on_replica(args, device_target):
    """fit --profile P without a HOST: against a replica of P on 127.0.0.1 (its CA, SNI and
    proof), the report saying so."""
    from ..lab import replica
    for flag, given in (("--sni", args.sni), ("--ca", args.ca)):
        if given:
            raise TlsfitError(USAGE, f"{flag} is for a HOST: the replica of --profile brings "
                                     "its own name and trust anchor")
    path = replica.resolve(args.profile)
    _client(args)                               # both or neither, before the replica starts
    with replica.serving(path) as r:
        ident = replica.replica_identity(r, bool(args.client_cert))
        if not args.json:
            print(f"tlsfit fit: against a replica of {args.profile} on {r.hostport}"
                  + "".join(f"\n  differs: {d}" for d in r.differences)
                  + (f"\n  {ident.note}" if ident else ""), file=sys.stderr)
        if ident:
            args.client_cert, args.client_key = str(ident.cert), str(ident.key)
        args.profile, args.sni, args.ca = str(path), r.sni, [r.ca_file]
        args.proof = args.proof or r.proof
        return _fit(args, [r.hostport], device_target,
                    {"profile": str(path), "differences": list(r.differences)})


def _note_replica(report, out, replica_of):
    """report.json and report.md say the server was a replica of the profile."""
    from ..core import paths
    report["replica_of"] = replica_of
    paths.write_atomic(os.path.join(out, "report.json"), json.dumps(report, indent=2) + "\n")
    md = os.path.join(out, "report.md")
    with open(md, encoding="utf-8") as f:
        text = f.read()
    lines = [f"The server was a local replica of `{replica_of['profile']}` (`tlsfit replay`)."]
    lines += [f"- differs: {d}" for d in replica_of["differences"]]
    paths.write_atomic(md, text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n")


def _reconnects(args):
    """N of --objective reconnect (its default without --reconnects), else 0; a usage error
    for --reconnects without that objective or that objective without --resume."""
    fit_resume.check(args.objective, args.resume, args.reconnects)
    if args.objective != fit_resume.RECONNECT:
        return 0
    return args.reconnects or fit_resume.DEFAULT_RECONNECTS


def _refuse_platform4(args):
    """fit --mbedtls 4.0 --for X where gen makes no X for 4.x (Zephyr, RT-Thread):
    MBED4_OUTPUT (59), gen's one line, before anything is probed.  --for esp-idf is
    made (ESP-IDF v6's files of the fitted pair: fit/line4.write_platform)."""
    if args.platform != "mbedtls" and two_files(args.mbedtls or default_line()):
        gen4.refuse_unmade(args)


def _fit(args, what, device_target, replica_of=None):
    _refuse_platform4(args)
    opts = search.FitOptions(target=args.target or device_target or "cortex-m4",
                             objective=args.objective, policy=args.policy,
                             line=args.mbedtls or default_line(), sni=args.sni,
                             ca=args.ca[0] if args.ca and len(args.ca) == 1 else args.ca,
                             candidates=max(1, args.candidates), jobs=max(1, args.jobs),
                             profile=args.profile, proof=args.proof, client=_client(args),
                             lto=bool(lto_mode(args.lto)), anchor=args.anchor,
                             external_rng=args.external_rng, alpn=args.alpn,
                             resume=args.resume, reconnects=_reconnects(args),
                             psk=pskargs.load(args), psk_key_file=args.psk_key_file,
                             reuse=args.reuse, dtls=args.dtls)
    report = search.fit(what[0] if isinstance(what, list) and len(what) == 1 else what,
                        opts, args.out)
    if replica_of:
        _note_replica(report, args.out, replica_of)
    written = _platform_files(args, report, opts)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(summary_lines(report, args.out))
        if report.get("lto"):
            print("\n".join(lto.summary_lines(report["lto"])))
        if written:
            print("  and " + ", ".join(str(w) for w in written))
        if args.verbose:
            print("where the time went:\n  " + "\n  ".join(timings.table_lines(
                report["timings"])))
        if replica_of:
            print(f"server: a replica of {replica_of['profile']} (tlsfit replay)")
    over = budget.over_budget(report, args.max_rom, args.max_heap)
    if over:
        raise TlsfitError(REGRESSION, "over budget: " + "; ".join(over))
    return 0


def _platform_files(args, report, opts):
    """--for: the platform's files, rendered again from what the fit wrote."""
    if args.platform == "mbedtls":
        return []
    gen_opts = GenOptions(line=opts.line, policy=opts.policy)     # (the anchor: report.json)
    if two_files(opts.line):
        return line4.write_platform(args.out, report, args.platform, gen_opts,
                                    len(report["servers"]))
    return artifacts.write_platform(args.out, report, args.platform, gen_opts,
                                    len(report["servers"]))
