"""The recorded profiles of tests/fixtures/compat/, for pure tests: a fresh copy per call,
each file read and validated by tlsfit.profile.model once per session."""
import copy
import functools
from pathlib import Path

from tlsfit.profile import model

COMPAT = Path(__file__).resolve().parent / "fixtures" / "compat"


@functools.lru_cache(maxsize=None)
def _loaded(name):
    return model.load(COMPAT / f"{name}.json")


def profile(name):
    """A fresh (deep) copy of the recorded profile tests/fixtures/compat/NAME.json."""
    return copy.deepcopy(_loaded(name))
