"""The read-only JSON document behind a typed result (Profile, Measurement,
VerifyResult): the typed fields are the contract between the stages, the document
keeps every name users see in the JSON."""
import copy
from collections.abc import Mapping
from types import MappingProxyType


def frozen_copy(doc):
    """A deep copy of doc behind a read-only top-level mapping."""
    return MappingProxyType(copy.deepcopy(dict(doc)))


class DocumentView(Mapping):
    """A Mapping over `self.document` (set by the subclass, a frozen dataclass)."""

    def to_json(self):
        """The JSON document (a fresh, mutable copy)."""
        return copy.deepcopy(dict(self.document))

    def __getitem__(self, key):
        return self.document[key]

    def __iter__(self):
        return iter(self.document)

    def __len__(self):
        return len(self.document)
