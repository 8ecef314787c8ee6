"""--psk-identity ID --psk-key-file FILE, the pre-shared key options of probe, gen,
verify, measure and fit (docs/probe.md, "Pre-shared keys")."""


def add(p):
    """Adds the two options to parser p."""
    g = p.add_argument_group("pre-shared key")
    g.add_argument("--psk-identity", metavar="ID",
                   help="the PSK identity the server knows (1-128 bytes); with --psk-key-file")
    g.add_argument("--psk-key-file", metavar="FILE",
                   help="the file holding the pre-shared key: hex digits (whitespace ignored) or "
                        "raw bytes, at most 64 bytes of key; never written anywhere by tlsfit")


def load(args):
    """The Psk the options name (core.pskkey.load), or None."""
    from ..core import pskkey
    return pskkey.load(getattr(args, "psk_identity", None), getattr(args, "psk_key_file", None))


def spec(args):
    """gen's view of the key (header.psk.PskSpec: identity, length, file name), or None."""
    psk = load(args)
    if psk is None:
        return None
    from ..header.psk import PskSpec
    return PskSpec.of(psk, args.psk_key_file)
