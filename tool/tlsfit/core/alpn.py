"""Application protocol (ALPN) names as users give them: `--alpn h2,http/1.1` on the
command line, `alpn = ["x-amzn-mqtt-ca"]` or `alpn = "h2,http/1.1"` in a device file.

    protocol_names("h2,http/1.1") -> ("h2", "http/1.1")     ValueError naming the fault
    checked_names(["h2", "mqtt"]) -> ("h2", "mqtt")

A name is 1-255 printable ASCII bytes without space or comma (RFC 7301 allows any
bytes; the comma separates names here and in the prober's --alpn); the whole list, as
the protocol_name_list a ClientHello carries, is at most LIST_MAX bytes.
"""

LIST_MAX = 255   # the prober's (and mbedTLS's practical) bound on the whole protocol_name_list
EXAMPLE = "e.g. x-amzn-mqtt-ca or h2,http/1.1"


def checked_names(names):
    """names (a sequence of str) as a tuple, or ValueError naming the first bad one."""
    names = tuple(names)
    if not names:
        raise ValueError(f"no protocol name ({EXAMPLE})")
    for name in names:
        if not isinstance(name, str):
            raise ValueError(f"not a protocol name: {name!r} (a string, {EXAMPLE})")
        if not name:
            raise ValueError(f"an empty protocol name in {','.join(names)!r} ({EXAMPLE})")
        if not all(0x21 <= ord(c) <= 0x7e and c != "," for c in name) or len(name) > 255:
            raise ValueError(f"not a protocol name: {name!r} (printable ASCII, no space or "
                             "comma, at most 255 characters)")
    if sum(1 + len(n) for n in names) > LIST_MAX:
        raise ValueError(f"the list is over {LIST_MAX} bytes: {','.join(names)!r}")
    return names


def protocol_names(text):
    """"P1,P2" -> ("P1", "P2"), or ValueError naming the fault."""
    return checked_names(text.split(","))
