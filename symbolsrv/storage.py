"""What a storage plugin returns: the Storage protocol and the Hit it answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from symbolsrv.keys import SymbolKey


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a key was found.

    Exactly one of `url` (redirect the client there) and `path` (a local file symbolsrv
    streams itself) is set. `max_age_seconds` caps Cache-Control, e.g. a presigned URL's
    lifetime; None means "use the configured redirect max-age".
    """

    location: str
    url: str | None = None
    path: str | None = None
    max_age_seconds: int | None = None


class Storage(Protocol):
    """One configured location. Implementations live in plugins/ and are built by the
    `symbolsrv_storage_for` hook."""

    name: str  # short label for logs and /__heartbeat__, e.g. "s3:org-symbols"

    def locate(self, key: SymbolKey) -> Hit | None:
        """Return a Hit, or None when the key is absent. Raise StorageError on any failure."""

    def ping(self) -> None:
        """Return if the location is reachable; raise StorageError otherwise."""
