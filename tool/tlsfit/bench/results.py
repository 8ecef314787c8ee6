"""Results files: bench/results/<commit>.json, one document per bench run (or shard).

    {"schema": "tlsfit-bench/1", "commit": "2e78cf5", "commit_date": ISO, "run_at": ISO,
     "tlsfit": "0.1.0", "mbedtls": "3.6.6", "compiler": "arm-none-eabi-gcc ... 12.2.1",
     "shard": null | "K/N",
     "cells": [cell, ...]}

A cell is one (profile, target, variant) measurement, variant "fitted" (tlsfit fit's
final header) or "default" (mbedTLS's default configuration, config.py
baremetal_size):

    {"profile", "target", "variant", "ok", "error", "elapsed_s", "mbedtls",
     "handshake": {...}, the six FIGURES, "modules": {"aes.o": ROM bytes, ...},
     "ratios": {figure: fitted / default} (fitted only),
     "fit_cached": the fit's choices came from the fit cache and were re-measured in
                   this run (bench/fitcache.py), "fit_target": the target the fit was
                   made on (fitted only),
     "report": report.json of the fit without its per-trial "search" list (fitted only)}

load() also reads a fit's report.json (`tlsfit fit --out DIR`) as a document of two
cells (fitted, and the default measured beside it), so `tlsfit size --diff` compares
two fits as well as two bench runs.  Several documents of one commit (CI shards)
merge into one (merge_by_commit).
"""
import json
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import FILE, TlsfitError
from ..target.result import FIGURES

SCHEMA = "tlsfit-bench/1"
VARIANTS = ("fitted", "default")


@dataclass(frozen=True, order=True)
class CellKey:
    """Where a cell sits in the matrix."""
    profile: str
    target: str
    variant: str

    def label(self):
        return f"{self.profile} / {self.target} / {self.variant}"

    def slug(self):
        return f"{self.profile}--{self.target}--{self.variant}"


def key_of(cell):
    return CellKey(cell["profile"], cell["target"], cell["variant"])


def modules_map(modules):
    """{object file: ROM bytes} from a measurement's modules list ([{name, rom_bytes}])
    or an already-made map."""
    if isinstance(modules, dict):
        return dict(modules)
    return {m["name"]: m["rom_bytes"] for m in modules or () if m.get("name")}


def figures_of(doc):
    return {k: doc.get(k) for k in FIGURES}


def cell_from_report(profile, report, elapsed_s=None):
    """The fitted cell of a fit's report.json."""
    slim = {k: v for k, v in report.items() if k != "search"}
    cached = report.get("fit_cached")
    return {"profile": profile, "target": report.get("target"), "variant": "fitted",
            "ok": bool((report.get("handshake") or {}).get("ok")), "error": None,
            "elapsed_s": elapsed_s, "fit_cached": bool(cached),
            "fit_target": cached["fit_target"] if cached else report.get("target"), "mbedtls": report.get("mbedtls"),
            "handshake": report.get("handshake"), **figures_of(report),
            "modules": modules_map(report.get("modules")),
            "ratios": report.get("ratios"), "report": slim}


def cell_from_measurement(profile, target, variant, m, elapsed_s=None):
    """A cell of a target/result.py Measurement (the default variant)."""
    hs = m.handshake
    return {"profile": profile, "target": target, "variant": variant, "ok": m.ok,
            "error": None if m.ok else hs.failure(), "elapsed_s": elapsed_s,
            "mbedtls": m.mbedtls,
            "handshake": {"ok": hs.ok, "version": hs.version, "ciphersuite": hs.ciphersuite,
                          "group": hs.group, "error": hs.error, "proof": hs.proof,
                          "proof_reply": hs.proof_reply, "alert": hs.alert},
            **m.figures(), "modules": modules_map(m.modules), "ratios": None, "report": None}


def failed_cell(key, error, elapsed_s=None):
    """A cell that produced no figures, with the one-line reason."""
    return {"profile": key.profile, "target": key.target, "variant": key.variant,
            "ok": False, "error": error, "elapsed_s": elapsed_s, "mbedtls": None,
            "handshake": None, **{k: None for k in FIGURES}, "modules": {},
            "ratios": None, "report": None}


def document(cells, commit, commit_date, run_at, tlsfit, mbedtls, compiler, shard=None):
    return {"schema": SCHEMA, "commit": commit, "commit_date": commit_date, "run_at": run_at,
            "tlsfit": tlsfit, "mbedtls": mbedtls, "compiler": compiler, "shard": shard,
            "cells": sorted(cells, key=lambda c: key_of(c))}


def _from_report(report, path):
    """A fit report.json as a results document: its fitted cell and, when the default
    was measured beside it, the default cell (figures only; the fit keeps no modules
    of the default)."""
    profile = report.get("server") or Path(path).parent.name
    cells = [cell_from_report(profile, report)]
    base = report.get("baseline")
    if base:
        hs = base.get("handshake") or {}
        cells.append({"profile": profile, "target": report.get("target"), "variant": "default",
                      "ok": bool(hs.get("ok")), "error": hs.get("error"), "elapsed_s": None,
                      "mbedtls": report.get("mbedtls"), "handshake": hs, **figures_of(base),
                      "modules": {}, "ratios": None, "report": None})
    return document(cells, str(path), None, None, None, report.get("mbedtls"), None)


def load(path):
    """A results document (or a fit's report.json, converted); FILE error naming the
    file and what is wrong."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except OSError as e:
        raise TlsfitError(FILE, f"{path}: cannot read: {e.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TlsfitError(FILE, f"{path}: not JSON ({e}); expected a tlsfit bench results "
                                "file or a fit report.json") from None
    if not isinstance(doc, dict):
        raise TlsfitError(FILE, f"{path}: not a tlsfit bench results file or fit report.json")
    if doc.get("schema") == SCHEMA:
        cells = doc.get("cells")
        if not isinstance(cells, list) or not all(
                isinstance(c, dict) and {"profile", "target", "variant"} <= c.keys()
                for c in cells):
            raise TlsfitError(FILE, f"{path}: cells: expected a list of cells with profile, "
                                    "target and variant")
        return doc
    if "rom_bytes" in doc and "target" in doc and "handshake" in doc:
        return _from_report(doc, path)
    raise TlsfitError(FILE, f"{path}: not a tlsfit bench results file (schema {SCHEMA}) or a "
                            "fit report.json")


def merge_by_commit(docs):
    """Documents of one commit (shards, reruns) merged: a later run's cell replaces an
    earlier one's.  Returns the merged documents, oldest commit first (by commit date,
    then run time)."""
    by = {}
    for d in sorted(docs, key=lambda d: d.get("run_at") or ""):
        m = by.setdefault(d["commit"], {**d, "cells": [], "shard": None})
        cells = {key_of(c): c for c in m["cells"]}
        cells.update({key_of(c): c for c in d["cells"]})
        m.update({k: d[k] for k in ("run_at", "tlsfit", "mbedtls", "compiler") if d.get(k)})
        m["cells"] = sorted(cells.values(), key=key_of)
    return sorted(by.values(), key=lambda d: (d.get("commit_date") or "", d.get("run_at") or ""))


def load_dir(directory):
    """Every results document in a directory (*.json; index files and other JSON that
    is not a results file are skipped), merged by commit, oldest first."""
    docs = []
    for p in sorted(Path(directory).glob("*.json")):
        try:
            doc = json.loads(p.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(doc, dict) and doc.get("schema") == SCHEMA:
            docs.append(doc)
    return merge_by_commit(docs)
