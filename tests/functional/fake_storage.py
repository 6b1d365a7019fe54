"""A test-only storage plugin: local directories that count calls and fail on demand.

Loaded like any plugin, by dotted name in symbolsrv.plugins
(`tests.functional.fake_storage`), so the real hook builds it. Schemes:

    count+file:///abs/dir   a LocalStorage over dir that records every key it is asked for
    fail+file:///abs/dir    the same, but failing (StorageError) until `.failing = False`
    fail://label            always fails while `.failing`; holds nothing when it recovers
    crash://label           a plugin bug: locate() raises RuntimeError, not StorageError

Tests reach the built objects through `server.chain.regular` / `server.chain.try_` and read
`.calls` or flip `.failing`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from plugins.storage_local import LocalStorage
from symbolsrv import hookimpl
from symbolsrv.errors import StorageError

MODULE = __name__
SCHEMES = ("count+file", "fail+file", "fail", "crash")


def counting(directory: Path) -> str:
    """The location URL of a counting local storage over `directory`."""
    return "count+" + Path(directory).resolve().as_uri()


def failing(directory: Path) -> str:
    """The location URL of a local storage over `directory` that fails until told not to."""
    return "fail+" + Path(directory).resolve().as_uri()


class ProxyStorage:
    """Records every locate() and raises StorageError while `failing` is set."""

    def __init__(self, name: str, inner: LocalStorage | None, failing: bool):
        self.name = name
        self.inner = inner
        self.failing = failing
        self.calls: list = []  # SymbolKeys asked for, in order

    def locate(self, key):
        self.calls.append(key)
        if self.failing:
            raise StorageError(self.name, "injected failure (tests.functional.fake_storage)")
        return self.inner.locate(key) if self.inner is not None else None

    def ping(self) -> None:
        if self.failing:
            raise StorageError(self.name, "injected failure (tests.functional.fake_storage)")
        if self.inner is not None:
            self.inner.ping()


class CrashingStorage:
    """A buggy plugin: raises an exception that is not a StorageError."""

    def __init__(self, name: str):
        self.name = name
        self.calls: list = []

    def locate(self, key):
        self.calls.append(key)
        raise RuntimeError("plugin bug (tests.functional.fake_storage)")

    def ping(self) -> None:
        raise RuntimeError("plugin bug (tests.functional.fake_storage)")


@hookimpl
def symbolsrv_storage_for(location, cfg):
    url = urlsplit(location)
    if url.scheme == "crash":
        return CrashingStorage(f"crash:{url.netloc}")
    if url.scheme == "fail":
        return ProxyStorage(f"fail:{url.netloc}", None, failing=True)
    if url.scheme in ("count+file", "fail+file"):
        inner = LocalStorage(unquote(url.path))
        kind = url.scheme.partition("+")[0]
        return ProxyStorage(f"{kind}:{inner.root}", inner, failing=kind == "fail")
    return None
