"""StorageChain: asks the configured locations, in INI order, where a key is."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from symbolsrv.errors import ConfigurationError, StorageError, StorageUnavailable
from symbolsrv.keys import SymbolKey
from symbolsrv.storage import Hit, Storage

log = logging.getLogger(__name__)


@dataclass
class StorageChain:
    regular: tuple[Storage, ...]
    try_: tuple[Storage, ...] = ()

    @classmethod
    def from_locations(cls, cfg, pm) -> "StorageChain":
        """Build one storage per configured location URL through the storage hook."""

        def build(location: str) -> Storage:
            storage = pm.hook.symbolsrv_storage_for(location=location, cfg=cfg)
            if storage is None:
                raise ConfigurationError(
                    f"no plugin handles location {location!r}; is its plugin in symbolsrv.plugins?"
                )
            return storage

        return cls(
            tuple(build(loc) for loc in cfg.locations),
            tuple(build(loc) for loc in cfg.try_locations),
        )

    @property
    def all(self) -> tuple[Storage, ...]:
        return self.regular + self.try_

    def locate(self, key: SymbolKey, include_try: bool = False) -> Hit | None:
        """Return the first location's Hit in order; None if every location said absent.

        Every regular location ranks above every try location. A failing location is
        logged and skipped; if no later location has the key, StorageUnavailable is
        raised, because "absent" would be a lie a client may cache.
        """
        storages = self.all if include_try else self.regular
        failed: list[str] = []
        for storage in storages:
            try:
                hit = storage.locate(key)
            except StorageError as exc:
                log.warning("storage %s failed for %s: %s", storage.name, key.path, exc.original)
                failed.append(storage.name)
                continue
            if hit is not None:
                return hit
        if failed:
            raise StorageUnavailable(failed)
        return None
