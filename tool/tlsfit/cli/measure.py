"""`tlsfit measure`: what a tls_config.h costs on an emulated Cortex-M."""
import json

from . import pskargs
from .common import client_identity
from ..core import resumption
from ..core.errors import DTLS_SILENT, TARGET, USAGE, TlsfitError
from ..mbedtls.tree import LINES
from ..target import measure, outcome
from ..target.firmware import fw
from .common import add_session_args, positive_bytes, seconds

HELP = """\
Cross-builds mbedTLS with the configuration header for a Cortex-M target,
links a small TLS client firmware with it, boots it under QEMU and makes one
verified handshake (authmode REQUIRED, the name checked) with the server
through the emulated UART.  Reports:

  rom_bytes          flash the whole image takes (code, constants, .data image)
  rom_tls_bytes      mbedTLS's part of it (from the linker map), and per
                     object file ("modules", largest first)
  ram_static_bytes   .data + .bss
  heap_peak_bytes    most bytes mbedTLS held at once (a counting allocator
                     behind mbedtls_calloc), with allocation count and the
                     largest block
  stack_peak_bytes   deepest stack use (the stack is painted at reset)
  handshake          ok, version, cipher suite, group and the proof that the
                     server accepted the session -- or the mbedTLS error name
                     and code, the handshake state it failed in (or "proof"
                     and the server's alert after the handshake), a hint
  handshake_instructions   instructions executed in the handshake alone (QEMU
                     -icount), time waiting for the UART excluded

After the handshake the firmware proves the server accepted the session: in
TLS 1.3 the handshake ends before the server has judged the client (a broker
that requires a client certificate rejects it only afterwards, with alert
certificate_required), so the firmware reads the server's post-handshake
flight and makes one exchange (--proof; by default an MQTT CONNECT on port
8883, an HTTP HEAD on 443 and 8443, otherwise no alert and no close within
2 s).  A rejection fails the measurement, the baseline's too.  The heap peak
covers the handshake and the proof.

The mbedTLS build is cached per header, target and mbedTLS tree in
$TLSFIT_CACHE/xbuild/ (first time ~5-60 s depending on the header; ccache is
used when installed); a cached measurement takes a few seconds.  The firmware
gets its randomness from a seeded generator that is for testing only -- for a
`gen --external-rng` header it also answers the device's TRNG hook (QEMU's
boards have no TRNG); "rng" in the report names the source.

--server is reached from this machine (QEMU's UART is relayed to it).  The
trust anchor(s) come from --ca; without it tlsfit looks up the root of the
server's chain in the system store.  --heap-limit caps mbedTLS's heap, as a
device with that much heap would: a handshake that needs more fails, and the
report says which allocation was refused.  --baseline also measures
mbedTLS's own default configuration (its scripts/config.py baremetal_size
preset) against the same server and adds ratios (measured / baseline).

--lto measures the image a device that links with link-time optimisation
gets: mbedTLS and the harness compiled with -flto -ffat-lto-objects (a cache
entry of its own; ccache still hits per file) and linked with -flto -Os.  Every
figure is then the LTO image's; "lto" adds the same objects' size linked
without -flto and the change, and the build-time cost (compile and link).
Under LTO, rom_tls_bytes and the modules count each function in the object that
defines it (looked up by name in the plain link's map); code inlined into the
harness counts as the harness's, and the few bytes with no name left are
lto.unattributed_rom_bytes.  --lto both also runs the plain build's image and
reports both side by side, with lto_change (LTO minus plain, per figure).

--resume (or a header from gen --resume, which defines TLSFIT_RESUME): after
the proof the firmware saves the session (TLS 1.3: it waits for the server's
NewSessionTicket), closes, and resumes it on a second connection, proven
again.  The report's "resumption" holds both connections' handshake
instructions, heap peak and bytes sent and received; a server that does not
resume the session fails with exit status 55.

A server that requires a client certificate (mutual TLS) gets the device's:
--client-cert FILE --client-key FILE (PEM or DER).  Both are embedded as DER
in that run's firmware only (a test build; run_params.c is deleted once
linked), the firmware presents the certificate and signs with the key, and
the heap the parsed key holds counts.  The report names the certificate, never
the key's bytes.

targets: {targets} (targets/*.toml)

examples:
  tlsfit measure --config tls_config.h --target cortex-m4 --server 127.0.0.1:4433 \\
                 --sni localhost --ca root.pem
  tlsfit measure --config tls_config.h --target cortex-m33 --server broker.example.com:8883 \\
                 --baseline --json > m33.json
  tlsfit measure --config tls_config.h --target cortex-m4 --server 127.0.0.1:1883 \\
                 --ca root.pem --proof mqtt
  tlsfit measure --config tls_config.h --target cortex-m4 --server 127.0.0.1:4433 \\
                 --ca root.pem --lto both       # -Os and -Os -flto side by side
  tlsfit measure --config tls_config.h --target cortex-m0plus ...   # unknown target: exit 2
  tlsfit measure --config coap.h --target cortex-m4 --server 127.0.0.1:5684 \
                 --psk-identity node-3 --psk-key-file node.key --baseline   # DTLS-PSK, CoAP proof

exit status: 0 the handshake completed and the server accepted the session;
41 it failed, faulted or timed out, or the server rejected the session
(the report says how; with --json it is still printed); 60 a DTLS server
sent no datagram at all (nothing on that UDP port, or it drops the
ClientHello); 64 --resume with DTLS; 55 the server did
not resume the session (--resume); 40 cross-building
failed; 36 mbedTLS rejects the header (check_config.h); 35 unreadable file;
44 the device certificate or key is unusable; 2 usage.
""".replace("{targets}", ", ".join(fw.target_names()))


def configure(p):
    p.add_argument("--config", required=True, metavar="FILE",
                   help="the mbedTLS configuration header to measure (MBEDTLS_CONFIG_FILE)")
    p.add_argument("--target", required=True, metavar="NAME",
                   help="Cortex-M target: " + ", ".join(fw.target_names()))
    p.add_argument("--server", metavar="HOST:PORT",
                   help="TLS server to handshake with (port 443 when omitted)")
    p.add_argument("--profile", metavar="NAME|FILE",
                   help="without --server: handshake with a local replica of this profile "
                        "(tlsfit replay; its name, trust anchor and proof)")
    p.add_argument("--sni", metavar="NAME",
                   help="server name to send and check the certificate against (default: HOST)")
    p.add_argument("--ca", metavar="FILE",
                   help="the device's trust anchor(s), PEM or DER, built into the firmware "
                        "(default: the system-store root of the server's chain); for a header "
                        "made with gen/fit --anchor CERT, CERT")
    p.add_argument("--json", action="store_true",
                   help="print the report as JSON on stdout (also when the handshake fails)")
    p.add_argument("--baseline", action="store_true",
                   help="also measure mbedTLS's default configuration and report ratios")
    p.add_argument("--heap-limit", type=positive_bytes, metavar="BYTES",
                   help="refuse allocations that would take mbedTLS's heap beyond BYTES")
    p.add_argument("--lto", nargs="?", const="on", default="off", choices=("on", "off", "both"),
                   help="link-time optimisation: --lto measures the -flto build; --lto both "
                        "also the plain one, side by side (default off)")
    p.add_argument("--mbedtls", choices=LINES,
                   help="mbedTLS line to build against (default: the 3.x tree)")
    add_session_args(p, "embedded in this test build only")
    p.add_argument("--resume", action="store_true",
                   help="after the proof, close and resume the session on a second connection "
                        "and report both side by side (instructions, heap, bytes); the server "
                        "must accept it (always done for a header from gen --resume)")
    p.add_argument("--timeout", type=seconds, default=measure.DEFAULT_TIMEOUT,
                   metavar="SEC", help=f"stop QEMU after SEC seconds (default {measure.DEFAULT_TIMEOUT})")
    pskargs.add(p)
    p.add_argument("--dtls", action="store_true",
                   help="DTLS 1.2 over UDP (implied by a header from gen for a DTLS server, "
                        "which defines TLSFIT_DTLS): for a header that does not, such as an "
                        "mbedTLS preset with MBEDTLS_SSL_PROTO_DTLS")


def run(args):
    from .endpoint import server_or_replica
    try:
        client = client_identity(args)
        with server_or_replica(args.server, args.profile, args.sni, args.ca, args.proof,
                               "--server HOST:PORT", client=client) as t:
            report = measure.measure(measure.MeasureRequest(
                args.config, args.target, t.host, t.port, sni=t.sni, ca=t.ca,
                heap_limit=args.heap_limit, timeout=args.timeout, baseline=args.baseline,
                line=args.mbedtls, proof=t.proof, client=t.client,
                lto=measure.lto_mode(args.lto), resume=args.resume,
                psk=pskargs.load(args), dtls=args.dtls))
    except TlsfitError as e:
        if args.json and e.code != USAGE:
            print(json.dumps({"target": args.target, "server": args.server,
                              "config": {"path": args.config}, "handshake": None,
                              "error": {"exit_code": e.code, "message": e.message}}))
        raise
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print("\n".join(measure.format_report(report)))
    failed = [m for m in (report, report.without_lto, report.baseline)
              if m is not None and not m.ok]
    if failed:
        which = ("the handshake" if failed[0] is report else
                 "the plain (no LTO) handshake" if failed[0] is report.without_lto else
                 "the baseline handshake")
        error = failed[0].handshake.error
        code = DTLS_SILENT if error == outcome.SILENT else \
            resumption.exit_code({"ok": False, "error": error}, TARGET)
        raise TlsfitError(code, f"{which} on {report.target} failed: "
                                f"{failed[0].handshake.message}")
    return 0
