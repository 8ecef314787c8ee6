"""HOST[:PORT] as users write it on the command line."""
from .errors import USAGE, TlsfitError


def parse_target(text, default_port=443):
    """"host", "host:port", "[v6]:port", "v6" -> (host, port); USAGE error otherwise."""
    text = text.strip()
    if not text:
        raise TlsfitError(USAGE, "empty target; expected HOST[:PORT]")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not host:
            raise TlsfitError(USAGE, f"{text!r}: unclosed '[' in the address")
        if rest and not rest.startswith(":"):
            raise TlsfitError(USAGE, f"{text!r}: expected [ADDRESS]:PORT")
        port = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, None
    if port is None or port == "":
        if port == "":
            raise TlsfitError(USAGE, f"{text!r}: the port is empty")
        return host, default_port
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise TlsfitError(USAGE, f"{text!r}: the port must be a number from 1 to 65535")
    return host, int(port)


def format_hostport(host, port):
    """The inverse: IPv6 addresses in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
