"""A fit's header, rendered again from what the fit wrote: its copy of the profile(s)
and the choices in its report.json (`gen_options`).

    repo_name(path)               -> the path as a header names it
    extra_args(report, platform, port_lines) -> the Regenerate command's tail
    choices(opts, overrides)      -> the JSON form of a fit's choices (GenOptions, FitOverrides)
    read_report(path)             -> report.json (a dict), or TlsfitError(USAGE)
    apply(opts, report, path)     -> GenOptions with the fit's ECC, RNG, ALPN, resumption
                                     and trust anchor (DIR/anchor.pem, fit --anchor)
    overrides(report, path)       -> FitOverrides: the fit's removals, knobs, added options,
                                     sizes and candidate

`tlsfit gen DIR/profile.json ... --fit-report DIR/report.json` renders DIR/tls_config.h
byte for byte (the fit header's Regenerate line is that command), without a server.
"""
import json
from dataclasses import replace
from pathlib import Path

from ..core import paths
from ..core.errors import USAGE, TlsfitError
from .anchor import AnchorCert, AnchorError
from .types import NO_OVERRIDES, Candidate, FitOverrides

FIELDS = ("exclude", "knob_values", "extra", "sizes", "candidate")
# fit --anchor CERT: the fit's copy of CERT, beside report.json (a certificate, no key)
ANCHOR_FILE = "anchor.pem"


def repo_name(path):
    """How a header names a file: relative to the repository root when it is inside
    it (the Regenerate line then works from there), else absolute."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(paths.repo_root().resolve()))
    except ValueError:
        return str(p)


def extra_args(report=None, platform="mbedtls", port_lines=None):
    """The Regenerate command's arguments after gen's own options, in one order."""
    out = ()
    if report is not None:
        out += ("--fit-report", repo_name(report))
    if platform != "mbedtls":
        out += ("--for", platform)
    if port_lines:
        out += ("--port-lines", repo_name(port_lines))
    return out


def choices(opts, overrides=NO_OVERRIDES):
    """What a fit chose beyond gen's defaults (FitOverrides, and the GenOptions a fit
    sets), as JSON."""
    c = overrides.candidate
    return {"exclude": list(overrides.exclude), "knob_values": dict(overrides.knob_values),
            "extra": dict(overrides.extra), "sizes": dict(overrides.sizes),
            "candidate": None if c is None else vars(c), "ecc": opts.ecc,
            "anchor": None if opts.anchor is None else {"file": ANCHOR_FILE,
                                                        "sha256": opts.anchor.sha256},
            "external_rng": opts.external_rng, **({"alpn": list(opts.alpn)} if opts.alpn else {}),
            **({"resume": True} if opts.resume else {}),
            **({"server_alpn": [list(a) for a in opts.server_alpn]} if opts.server_alpn else {})}


def read_report(path):
    try:
        doc = json.loads(open(path, encoding="utf-8").read())
    except OSError as e:
        raise TlsfitError(USAGE, f"--fit-report {path}: cannot read it ({e.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TlsfitError(USAGE, f"--fit-report {path}: not JSON ({e})") from None
    g = doc.get("gen_options") if isinstance(doc, dict) else None
    if not isinstance(g, dict) or set(FIELDS) - set(g):
        raise TlsfitError(USAGE, f"--fit-report {path}: not a fit report with gen_options "
                                 "(as tlsfit fit writes it)")
    return doc


def apply(opts, report, path="report.json"):
    """opts with the fit's choices of gen's options from `report` (read_report's
    document): its ECC, the device's TRNG and its trust anchor.  A report whose
    overrides are malformed is refused here too (see overrides())."""
    g = report["gen_options"]
    if opts.external_rng and not g.get("external_rng"):
        raise TlsfitError(USAGE, f"--external-rng: {path} is a fit without it (its header has "
                                 "the entropy module and DRBG); fit again with "
                                 "tlsfit fit --external-rng, or drop the flag")
    fitted_alpn = tuple(g.get("alpn") or ())
    if opts.alpn and tuple(opts.alpn) != fitted_alpn:
        fitted = f"--alpn {','.join(fitted_alpn)}" if fitted_alpn else "no --alpn"
        raise TlsfitError(USAGE, f"--alpn {','.join(opts.alpn)}: {path} is a fit with {fitted}; "
                                 "fit again with that --alpn, or drop the flag")
    if opts.resume and not g.get("resume"):
        raise TlsfitError(USAGE, f"--resume: {path} is a fit without it (its header does not "
                                 "resume sessions); fit again with tlsfit fit --resume, or "
                                 "drop the flag")
    own = g.get("server_alpn") or []
    if not isinstance(own, list) or not all(isinstance(a, list) and all(
            isinstance(p, str) for p in a) for a in own):
        raise TlsfitError(USAGE, f"--fit-report {path}: gen_options.server_alpn is not a list of "
                                 "protocol lists (as tlsfit fit writes it)")
    overrides(report, path)
    opts = replace(opts, ecc=g.get("ecc", opts.ecc),
                   external_rng=bool(g.get("external_rng", opts.external_rng)),
                   alpn=fitted_alpn or tuple(opts.alpn), resume=bool(g.get("resume", opts.resume)),
                   server_alpn=tuple(tuple(a) for a in own))
    return apply_anchor(opts, report, path)


def overrides(report, path="report.json"):
    """The FitOverrides in `report` (read_report's document): the options the fit removed,
    its knob settings, added options, measured sizes and pinned candidate."""
    g = report["gen_options"]
    try:
        cand = None if g["candidate"] is None else Candidate(**g["candidate"])
        return FitOverrides(exclude=tuple(g["exclude"]), knob_values=dict(g["knob_values"]),
                            extra=dict(g["extra"]),
                            sizes={k: int(v) for k, v in g["sizes"].items()}, candidate=cand)
    except (TypeError, ValueError, AttributeError) as e:
        raise TlsfitError(USAGE, f"--fit-report {path}: gen_options is malformed ({e})") \
            from None


def apply_anchor(opts, report, path):
    """opts with the fit's trust anchor (gen_options.anchor: its copy beside the report),
    when it had one; AnchorError when --anchor names another certificate."""
    a = report["gen_options"].get("anchor")
    if not a:
        return opts
    if not isinstance(a, dict) or not all(isinstance(a.get(k), str) for k in ("file", "sha256")):
        raise TlsfitError(USAGE, f"--fit-report {path}: gen_options.anchor is malformed")
    f = Path(path).parent / a["file"]
    mine = AnchorCert.load(f, repo_name(f))
    if mine.sha256 != a["sha256"]:
        raise AnchorError(f"{f}: is not the anchor {path} was fitted with (SHA-256 "
                          f"{a['sha256'][:16]}...): restore the fit's copy")
    if opts.anchor is not None and opts.anchor.sha256 != mine.sha256:
        raise AnchorError(f"--anchor {opts.anchor.name} is not the anchor {path} was fitted "
                          f"with ({f}): leave --anchor out, or name that file")
    return replace(opts, anchor=mine)
