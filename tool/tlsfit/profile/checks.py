"""The type checks of the profile validator (model.py): each raises Invalid with
the path of the field that failed and what was wrong, in one line."""
import json
import math


class Invalid(Exception):
    def __init__(self, where, what):
        super().__init__(what)
        self.where = where
        self.what = what


def describe(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"the integer {short(value)}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(shown)}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def short(n):
    """An integer as written, or its digit count when it would flood the line.  The
    count is worked out without str(), which refuses integers of more than
    sys.get_int_max_str_digits() digits (a profile given as a Python object can hold one)."""
    a = abs(n)
    if a < 10**20:
        return str(n)
    digits = int((a.bit_length() - 1) * math.log10(2)) + 1     # a lower bound, exact or one short
    if a >= 10**digits:
        digits += 1
    return f"{'-' if n < 0 else ''}a {digits}-digit integer"


def join(path, key):
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Checker:
    """Type checks that raise Invalid with the field path."""

    @staticmethod
    def obj(v, where):
        if not isinstance(v, dict):
            raise Invalid(where, f"expected an object, got {describe(v)}")
        return v

    @staticmethod
    def key(obj, name, where):
        if name not in obj:
            raise Invalid(join(where, name), "missing")
        return obj[name]

    @staticmethod
    def int_(v, where, minimum=None, maximum=None, nullable=False):
        if v is None and nullable:
            return v
        if not isinstance(v, int) or isinstance(v, bool):
            kind = "an integer or null" if nullable else "an integer"
            raise Invalid(where, f"expected {kind}, got {describe(v)}")
        if minimum is not None and v < minimum:
            raise Invalid(where, f"{short(v)} is below the minimum {minimum}")
        if maximum is not None and v > maximum:
            raise Invalid(where, f"{short(v)} is above the maximum {maximum}")
        return v

    @staticmethod
    def bool_(v, where, nullable=False):
        if v is None and nullable:
            return v
        if not isinstance(v, bool):
            kind = "true, false or null" if nullable else "true or false"
            raise Invalid(where, f"expected {kind}, got {describe(v)}")
        return v

    @staticmethod
    def str_(v, where, nullable=False, choices=None, pattern=None, what=None, nonempty=False):
        if v is None and nullable:
            return v
        if not isinstance(v, str):
            kind = "a string or null" if nullable else "a string"
            raise Invalid(where, f"expected {kind}, got {describe(v)}")
        if choices is not None and v not in choices:
            listed = ", ".join(json.dumps(c) for c in choices)
            raise Invalid(where, f"{json.dumps(v)} is not one of {listed}")
        if pattern is not None and not pattern.match(v):
            raise Invalid(where, f"{json.dumps(v)} is not {what}")
        if nonempty and not v:
            raise Invalid(where, "must not be empty")
        return v

    @staticmethod
    def list_(v, where, item=None):
        if not isinstance(v, list):
            raise Invalid(where, f"expected a list, got {describe(v)}")
        if item is not None:
            for i, x in enumerate(v):
                item(x, join(where, i))
        return v


C = Checker
