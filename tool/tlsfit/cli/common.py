"""argparse pieces the commands share: value types with one-line errors."""
import argparse


def int_range(lo, hi, unit):
    """argparse type: a whole number of `unit` between lo and hi."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number of {unit}: {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi} {unit}: {text!r}")
        return v
    return parse


def seconds(text):
    """argparse type: more than 0 and at most 600 seconds (a whole number stays an int)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < v <= 600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 600 s: {text!r}")
    return v if v != int(v) else int(v)


def positive_bytes(text):
    """argparse type: a number of bytes above 0 (0x... accepted)."""
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of bytes: {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return v


def alpn_list(text):
    """argparse type: ALPN protocols "P1,P2" -> tuple of names (core.alpn's rules)."""
    from ..core import alpn
    try:
        return alpn.protocol_names(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_session_args(p, key_use):
    """--proof and the device identity (--client-cert, --client-key), as verify and
    measure take them; key_use says what is done with the key."""
    from ..core import proof            # here: `tlsfit probe` does not import dataclasses
    p.add_argument("--proof", type=proof.proof_arg,
                   metavar="mqtt|http|no-alert|send:HEX,expect:HEX", help=proof.HELP)
    add_client_args(p, "the device's certificate (PEM or DER), presented when the server asks "
                       "for one (mutual TLS); needs --client-key",
                    f"the device's private key (PEM or DER, unencrypted); {key_use}")


def add_client_args(p, cert_help, key_help):
    """--client-cert FILE and --client-key FILE (read back by client_identity), with each
    command's own help."""
    p.add_argument("--client-cert", metavar="FILE", help=cert_help)
    p.add_argument("--client-key", metavar="FILE", help=key_help)


def client_identity(args):
    """The ClientIdentity of --client-cert/--client-key (both or neither), or None."""
    if args.client_cert is None and args.client_key is None:
        return None
    from ..core.errors import USAGE, TlsfitError
    from ..core.identity import ClientIdentity     # here: `tlsfit probe` without them stays light
    if args.client_cert is None or args.client_key is None:
        raise TlsfitError(USAGE, "--client-cert and --client-key go together: the device "
                                 "presents its certificate and signs with its key")
    return ClientIdentity.load(args.client_cert, args.client_key)
