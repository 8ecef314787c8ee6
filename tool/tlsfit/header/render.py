"""Rendering a gen HeaderPlan into a header with the Jinja2 templates in templates/.

The environment is strict (StrictUndefined: a missing variable is an error, never an
empty string) and keeps the template's trailing newline.  Template errors are not
caught here: cli.main() maps jinja2's TemplateError to exit 39 (TLSFIT_RULES), as it
maps every other failure, in one place.

Everything a server controls (certificate subjects, host names) can land in a C
comment; the `comment` filter makes it harmless there ("*/" and newlines cannot end
the comment or the line).
"""
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from .rules import SECTIONS

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
SECTION_TITLES = {
    "system": "system and platform",
    "entropy": "entropy and random generator",
    "crypto": "ciphers and hashes",
    "psa": "PSA Crypto: what TLS 1.3 asks of it",
    "pk": "public keys and curves",
    "x509": "certificates",
    "tls": "TLS",
}
COLUMN = 52


def comment(text):
    """A string made safe for the inside of a /* ... */ comment, on one line."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(text))
    return text.replace("*/", "* /").replace("/*", "/ *")


@dataclass
class _Row:
    name: str
    why: str
    pad: int
    value: object = None


@dataclass
class HeaderView:
    """What the templates see: plain data, sorted and padded for the page."""
    line: str
    target: str
    tlsfit: str
    profile: str
    probed_at: str
    policy: str
    policy_summary: str
    tls: str
    time: bool
    chosen: list
    warnings: list
    duties: list
    sections: list
    values: list
    ciphersuites: list
    prove: str
    regenerate: str
    servers: list = None          # several servers: [{who, target, profile, probed_at, chosen,
                                  # prove}], else empty (the one-server preamble)
    ecc: str = ""                 # the ECC note (gen --ecc): driver-only, or why built-in stays
    anchor: list = None           # lines on an anchor that is not a root (gen --anchor)
    rng: list = None              # gen --external-rng: what the application owes, line by line
    resume: list = None           # gen --resume: the mode per server and the fact proving it
    dtls: list = None             # a DTLS server: the options left out and why (header/dtls.py)


def first_reason(reasons):
    """The first reason, plus how many more facts need the option."""
    if not reasons:
        return "tlsfit"
    more = len(reasons) - 1
    return reasons[0] + (f" (+{more} more)" if more else "")


def view(plan, rules):
    by_section = {s: [] for s in SECTIONS}
    for name in sorted(plan.options):
        value = rules.options[name].value if name in rules.options else None
        text = name if value is None else f"{name} {value}"
        by_section[rules.section(name)].append(_Row(name, first_reason(plan.options[name]),
                                                    max(1, COLUMN - 8 - len(text)), value))
    sections = [{"title": SECTION_TITLES[s], "options": rows}
                for s, rows in by_section.items() if rows]
    values = [_Row(name, why, max(1, COLUMN - 9 - len(name) - len(str(value))), value)
              for name, (value, why) in sorted(plan.values.items())]
    f = plan.facts
    return HeaderView(plan.line, plan.target, f["tlsfit"], f["profile"], f["probed_at"] or "?",
                      plan.policy, f["policy_summary"], f["tls"], f["time"],
                      [c.label() for c in plan.chosen], plan.warnings, plan.duties, sections,
                      values, plan.ciphersuites, f["prove"], f["regenerate"], _servers(plan),
                      f.get("ecc_note", ""), list(f.get("anchor_note") or ()),
                      (f.get("rng") or {}).get("owes") or [], f.get("resume_lines") or [],
                      list(f.get("dtls") or ()))


def _servers(plan):
    if len(plan.servers) < 2:
        return []
    return [dict(s, who=f"server {s['index']} ({s['target']})", probed_at=s["probed_at"] or "?")
            for s in plan.servers]


def environment():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["comment"] = comment
    return env


def header(plan, rules):
    return environment().get_template(f"mbedtls-{plan.line}.h.j2").render(h=view(plan, rules))
