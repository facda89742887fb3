"""What a process keeps a while: values it worked out from the database, by key, each read back only
while younger than its reader asks, at most `most` of them (all forgotten when full, so a process's
memory stays bounded whatever is asked of it). Each process keeps its own; none is shared."""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class Kept(Generic[_K, _V]):
    def __init__(self, most: int = 4096) -> None:
        self.values: dict[_K, tuple[float, _V]] = {}
        self.most = most

    def get(self, key: _K, within: float) -> _V | None:
        """The value kept less than `within` seconds ago, if any."""
        kept = self.values.get(key)
        return kept[1] if kept is not None and time.monotonic() - kept[0] < within else None

    def take(self, key: _K) -> tuple[float, _V] | None:
        """When the value was kept and the value, however long ago, no longer kept."""
        return self.values.pop(key, None)

    def put(self, key: _K, value: _V, at: float | None = None) -> None:
        if len(self.values) >= self.most:
            self.values.clear()
        self.values[key] = (time.monotonic() if at is None else at, value)

    def clear(self) -> None:
        self.values.clear()
