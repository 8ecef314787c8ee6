"""`tlsfit replay`: serve a local replica of a profiled server."""
import json
import signal
import sys

from .common import int_range

HELP = """\
Stands up a local replica of a profiled server on 127.0.0.1, so gen, verify,
measure and fit run offline: the same TLS versions, cipher suites in the same
order (the server's order or the client's, as recorded), groups, signature
schemes, client-certificate request (its schemes and as many CA names; any
certificate is accepted, since the real CA is not at hand), ALPN, session
tickets, extended_master_secret and encrypt_then_mac as recorded; a
synthesized chain of the same length, key types and sizes and signature
algorithms, each certificate brought to its recorded size (the serial's
length, a non-critical nsComment extension), so the Certificate message and
the largest record match within a few bytes; and the application proof the
profile implies (ALPN, else the port: 8883 an MQTT CONNACK, 443/8443 an HTTP
status line, else no alert).  The replica is tool/replay/tlsfit-replay, built with Debian's
OpenSSL.

Its trust anchor is written beside the synthesized chain in the cache
(<cache>/replay/<hash>/ca.pem, chains are made once per chain shape: RSA-4096
keys are slow).  The replica's private keys stay there; they never enter a
profile or a report.  What OpenSSL cannot reproduce (a server that ignores
max_fragment_length, record_size_limit, suites OpenSSL lacks, ...) is
printed, one line each, named by the profile field ("differs: ...").

Runs in the foreground until Ctrl-C or SIGTERM, then stops every connection
and exits 0.  Without --port the kernel picks a free port.

PROFILE is a profile file or a name in profiles/.

examples:
  ./tlsfit replay profiles/mosquitto-mtls.json
  ./tlsfit replay nginx-intermediate --port 8443 --json
  ./tlsfit verify --config tls_config.h 127.0.0.1:PORT --sni SNI --ca CA --proof PROOF
  ./tlsfit verify --config tls_config.h --profile mosquitto-tls   # its own replica
  ./tlsfit fit --profile nginx-intermediate     # starts (and stops) its own replica

exit status: 0 stopped by Ctrl-C, SIGTERM or SIGHUP; 48 the profile cannot be replicated or the
replica did not start (the message says why); 32 the profile is not valid;
2 usage.
"""


def configure(p):
    from . import pskargs
    p.add_argument("profile", metavar="PROFILE", help="a profile file or a name in profiles/")
    p.add_argument("--port", type=int_range(0, 65535, "port"), default=0, metavar="N",
                   help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--json", action="store_true",
                   help="print {host, port, ca_file, sni, proof, differences, "
                        "requires_client_cert, dtls} as one JSON line once serving, nothing "
                        "else on stdout")
    pskargs.add(p)      # a DTLS profile's PSK suites: the replica needs the device's key


def _lines(r, name):
    over = " (DTLS 1.2 over UDP)" if r.dtls else ""
    out = [f"replica of {name}: serving on {r.hostport}{over}",
           f"  trust anchor: {r.ca_file or 'none (a pre-shared key only)'}",
           f"  sni: {r.sni}",
           f"  proof: {r.proof.spec} ({r.proof.label})"]
    out += [f"  differs: {d}" for d in r.differences] or ["  differs: nothing recorded"]
    ca = f" --ca {r.ca_file}" if r.ca_file else " --psk-identity ID --psk-key-file FILE"
    out.append(f"  try: ./tlsfit verify --config tls_config.h {r.hostport} --sni {r.sni}"
               f"{ca} --proof {r.proof.spec}")
    out.append("stop with Ctrl-C")
    return out


def run(args):
    from ..lab import replica
    from . import pskargs
    path = replica.resolve(args.profile)
    psk = pskargs.load(args)
    try:
        with replica.serving(path, port=args.port, psk=psk) as r:
            if args.json:
                print(json.dumps(r.as_json()), flush=True)
            else:
                print("\n".join(_lines(r, args.profile)), flush=True)
            while True:
                signal.pause()
    except KeyboardInterrupt:            # SIGINT/SIGTERM/SIGHUP: the replica is stopped
        print("tlsfit replay: stopped", file=sys.stderr)
        return 0
