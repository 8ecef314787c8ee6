"""What a header wants: {option: [reasons]}, every option with the server facts (or
choices) that need it, reasons in first-seen order."""


def need(wanted, options, reason):
    """Adds `options` to `wanted` (in place), each with `reason` once."""
    for o in options:
        wanted.setdefault(o, [])
        if reason not in wanted[o]:
            wanted[o].append(reason)


def merge(*dicts):
    """Union of {option: [reasons]} dicts, reasons in first-seen order."""
    out = {}
    for d in dicts:
        for k, reasons in d.items():
            merged = out.setdefault(k, [])
            merged += [r for r in reasons if r not in merged]
    return out
