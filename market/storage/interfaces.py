from __future__ import annotations

from typing import Protocol


class FileStorage(Protocol):
    """Where file contents live. Keys are made by the platform (never from a user's file name);
    a missing key raises FileNotFoundError and any other failure an OSError, whatever the backend."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...
