"""`tlsfit fit --mbedtls 4.0`: the fit on a 4.x tree, where a header is two files.

    fitter_class(line)         -> the Fitter for the line (search.Fitter up to 3.6, Fitter4 from 4.0)
    refuse_early(docs, opts)   gen's refusal before anything is measured (4.x: generate_pair)
    write_header(out, plan)    DIR/tls_config.h (and, on 4.x, DIR/tls_config_crypto.h)
    write_platform(out, report, fmt, opts, n)
                               DIR/esp-idf/: ESP-IDF v6's files of the fitted pair (fit --for)

Every candidate is gen's 4.x pair (header/mbed4/pair.py: the choice made as for 3.6, with
the key exchanges 4.x removed ruled out, translated into the two files by rules_4.toml),
written as X.h + X_crypto.h (mbedtls/configfiles.py) and measured with both.

The ablation's units are the 3.6 option names of that choice (the plan's `options`),
removed through gen's FitOverrides as on 3.6: the pair is generated again without the
option, so every file measured is one gen can regenerate (`gen --fit-report`), and the
rules.toml dependencies keep holding back what another option needs.  An option whose
removal would measure the same pair again is not tried: its 4.x translation is in neither
file ("gone", "default" in rules_4.toml), or gen puts back every definition it maps to.
"""
from dataclasses import replace
from pathlib import Path

from ..core import paths
from ..core.errors import INTERNAL, TlsfitError
from ..header import gen, rules as rules_mod
from ..header import refit
from ..header.commands import regenerate_command
from ..header.mbed4 import esp_idf, table as table_mod
from ..header.mbed4.pair import generate_pair, rules_without_removed_kx
from ..header.types import NO_OVERRIDES
from ..mbedtls.configfiles import crypto_config_path, two_files
from . import artifacts
from .search import Fitter, Trial

# the ablation's skip reason per rules_4.toml destination outside the two files
NOT_IN_FILES = {"gone": "not in 4.x's files (rules_4.toml: gone): removing it changes nothing",
                "default": "always on in 4.x (rules_4.toml: default): removing it changes nothing"}

SAME_PAIR = "the 4.x pair defines the same without it (gen puts back what it maps to)"


def definitions(plan):
    """The #define lines of both files (comments and the preamble left out)."""
    return tuple(sorted(line.split("/*")[0].rstrip() for text in (plan.text, plan.crypto_text)
                        for line in text.splitlines() if line.startswith("#define ")))


class Plan4:
    """A 4.x PairPlan seen as the fit sees a 3.6 HeaderPlan: the 3.6 choice's chosen,
    options, values, facts and servers, with `text` the TLS file and `crypto_text` its
    pair."""

    def __init__(self, pair):
        self.pair = pair
        self.text = pair.tls_text
        self.crypto_text = pair.crypto_text

    def __getattr__(self, name):
        return getattr(self.pair.plan36, name)


class Fitter4(Fitter):
    """search.Fitter for a 4.x tree: pairs generated, written and measured."""

    def __init__(self, sites, opts, out_dir, progress):
        super().__init__(sites, opts, out_dir, progress)
        self.table = table_mod.load()
        self.rules = rules_without_removed_kx(rules_mod.load(), self.table)

    def _plan(self, gen_opts, overrides=NO_OVERRIDES):
        names = artifacts.profile_names(self.out, len(self.sites))
        command = artifacts.command_for(self.out, len(self.sites), gen_opts)
        return Plan4(generate_pair([s.profile for s in self.sites], gen_opts, names,
                                   command=command, overrides=overrides))

    def make(self, label, gen_opts, overrides, phase, removed=(), plan=None):
        plan = plan or self._plan(gen_opts, overrides)
        self.counter += 1
        cfg = write_header(self.work / f"{self.counter:02d}", plan)
        return Trial(label, cfg, gen_opts, plan, [None] * len(self.sites), phase=phase,
                     removed=tuple(removed), overrides=overrides,
                     reconnects=self.opts.reconnects if self.opts.objective == "reconnect" else 0)

    def choice_options(self, gen_opts):
        return replace(gen_opts, line="3.6")      # as generate_pair chooses

    def _removable(self, trial):
        """As on 3.6, less the options whose removal leaves both files' definitions as
        they are (gen puts back what they map to, or 4.x has no place for them): such a
        trial would be the same build, "removed" at no cost, and tried again each pass."""
        out = []
        mine = definitions(trial.plan)
        for name, why in super()._removable(trial):
            move = self.table.moves.get(name)
            if why is None and move is not None and move.to in NOT_IN_FILES:
                why = NOT_IN_FILES[move.to]
            elif why is None and definitions(self._plan(trial.gen_opts, replace(
                    trial.overrides, exclude=tuple(trial.overrides.exclude) + (name,)))) == mine:
                why = SAME_PAIR
            out.append((name, why))
        return out


def fitter_class(line):
    return Fitter4 if two_files(line) else Fitter


def refuse_early(docs, opts):
    """gen's Refusal for these profiles before anything is measured (none: returns)."""
    if two_files(opts.line):
        generate_pair(docs, opts)
    else:
        gen.generate_device(docs, opts)


def write_header(out_dir, plan):
    """DIR/tls_config.h, and on 4.x its crypto file first (each atomically, so that a TLS
    file is never newer than its pair); returns the TLS file's path."""
    tls = out_dir / "tls_config.h"
    crypto_text = getattr(plan, "crypto_text", None)
    if crypto_text is not None:
        paths.write_atomic(crypto_config_path(tls), crypto_text)
    return paths.write_atomic(tls, plan.text)


def files_section(plan):
    """report.json's "config_files" on 4.x: each file's name and the 4.x options and values
    it defines (the report's "options" keep the 3.6 names the ablation removed); {} up to
    3.6."""
    pair = getattr(plan, "pair", None)
    if pair is None:
        return {}
    f = pair.files
    tls = "tls_config.h"
    return {"config_files": {
        tls: {"options": sorted(f.tls), "values": {k: v[0] for k, v in f.tls_values.items()}},
        crypto_config_path(tls).name: {"options": sorted(f.crypto),
                                       "values": {k: v[0] for k, v in f.crypto_values.items()}}}}


def md_with_files(report, md):
    """report.md with, on 4.x, a paragraph naming the two files and the names its tables use."""
    files = report.get("config_files")
    if not files:
        return md
    tls, crypto = sorted(files)
    return md.rstrip("\n") + (
        f"\n\nMbed TLS 4.x: the configuration is two files, `{tls}` (MBEDTLS_CONFIG_FILE, "
        f"{len(files[tls]['options'])} options) and `{crypto}` (TF_PSA_CRYPTO_CONFIG_FILE, "
        f"{len(files[crypto]['options'])} options). The ablation above removed mbedTLS 3.6 "
        "option names; gen translated each pair into 4.x's names (rules_4.toml).\n")


def write_platform(out, report, fmt, opts, n):
    """DIR/FMT/<files> for `fit --mbedtls 4.0 --for FMT` (ESP-IDF v6's sdkconfig.defaults
    and tlsfit_user_config.h: the only platform tlsfit makes for 4.x, cli/gen4.py refuses
    the others before the fit); [paths written].  The pair is generated again from DIR's
    profile copies and report.json, as `gen --fit-report` does, and must be both of DIR's
    files byte for byte."""
    from ..profile import model
    out = Path(out)
    report_path = out / artifacts.REPORT
    opts = refit.apply(opts, report, report_path)
    names = artifacts.profile_names(out, n)
    pair = generate_pair([model.read(p) for p in artifacts.profile_files(out, n)], opts, names,
                         command=artifacts.command_for(out, n, opts),
                         overrides=refit.overrides(report, report_path))
    tls = out / "tls_config.h"
    if (pair.tls_text, pair.crypto_text) != (tls.read_text(),
                                             crypto_config_path(tls).read_text()):
        raise TlsfitError(INTERNAL, f"{out}/tls_config.h and its crypto file do not render "
                                    f"again from {report_path}: a defect in tlsfit, please "
                                    "report it")
    cmd = regenerate_command(names, opts, refit.extra_args(report_path, fmt))
    made = esp_idf.files(pair, esp_idf.four_tree(), cmd)
    return [paths.write_atomic(out / fmt / name, text) for name, text in made.files.items()]
