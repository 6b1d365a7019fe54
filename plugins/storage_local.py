"""file:///abs/dir — a symbol store on local disk or NFS; symbolsrv streams the bytes itself,
or, with `?public_url=https://cdn.example.com/symbols`, redirects to where a web server or CDN
publishes the same directory (existence is still checked on disk)."""

from __future__ import annotations

import errno
import logging
import os
import stat
from urllib.parse import unquote, urlsplit

from symbolsrv import hookimpl
from symbolsrv.errors import ConfigurationError, StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.location_options import parse_location_options, public_base_url
from symbolsrv.storage import Hit

log = logging.getLogger(__name__)

# Errors that mean "no such file can exist here", not "the disk is failing".
_ABSENT = {errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.EINVAL}


class LocalStorage:
    def __init__(self, root: str, public_url: str | None = None):
        self.root = os.path.abspath(root)
        self.public_url = public_url
        self.real_root = os.path.realpath(self.root)
        self.name = f"file:{self.root}"

    def locate(self, key: SymbolKey) -> Hit | None:
        path = os.path.join(self.root, *key.path.split("/"))
        # Segments are already checked (no "..", no "/"); this is defence in depth.
        if os.path.commonpath([self.root, os.path.normpath(path)]) != self.root:
            return None
        try:
            st = os.stat(path)
        except OSError as exc:
            if exc.errno in _ABSENT:
                # An unmounted NFS share looks like "no such file" for every key: that is an
                # outage, not a miss.
                if not os.path.isdir(self.root):
                    raise StorageError(self.name, "root directory is missing") from exc
                return None
            raise StorageError(self.name, exc) from exc
        if not stat.S_ISREG(st.st_mode):
            return None
        # Symlinks inside the store are fine (dedup); one leading out of it is never served.
        real = os.path.realpath(path)
        if os.path.commonpath([self.real_root, real]) != self.real_root:
            log.warning("storage %s: %s leads outside the store; not served", self.name, key.path)
            return None
        if self.public_url:
            return Hit(location=self.name, url=f"{self.public_url}/{key.quoted_path}")
        return Hit(location=self.name, path=path)

    def ping(self) -> None:
        if not os.path.isdir(self.root) or not os.access(self.root, os.R_OK | os.X_OK):
            raise StorageError(self.name, "directory missing or unreadable")

    # Listing, for `symbolsrv index` (optional storage methods; the server never calls them).

    def list_keys(self, suffix: str):
        """Yield (path, version) for each regular file `<debug_file>/<debug_id>/<symbol_file>`
        whose name ends with suffix (any case), in sorted order; version is mtime-size (it
        changes when the file is replaced). Raises StorageError when the root is unreadable."""
        if not os.path.isdir(self.root):
            raise StorageError(self.name, "root directory is missing")
        suffix = suffix.lower()

        def entries(directory):
            try:
                with os.scandir(directory) as it:
                    return sorted(it, key=lambda entry: entry.name)
            except OSError as exc:
                if directory == self.root:
                    raise StorageError(self.name, exc) from exc
                return []  # a vanished or unreadable subdirectory holds nothing we can read

        for debug_file in entries(self.root):
            if not _is_dir(debug_file):
                continue
            for debug_id in entries(debug_file.path):
                if not _is_dir(debug_id):
                    continue
                for symbol_file in entries(debug_id.path):
                    if not symbol_file.name.lower().endswith(suffix):
                        continue
                    try:
                        st = symbol_file.stat()
                    except OSError:
                        continue
                    if stat.S_ISREG(st.st_mode):
                        yield (f"{debug_file.name}/{debug_id.name}/{symbol_file.name}",
                               f"{st.st_mtime_ns:x}-{st.st_size:x}")

    def read_head(self, path: str, size: int) -> bytes | None:
        """The first `size` bytes of the file at path (as listed), or None if it is gone."""
        full = os.path.join(self.root, *path.split("/"))
        try:
            with open(full, "rb") as handle:
                return handle.read(size)
        except OSError as exc:
            if exc.errno in _ABSENT:
                return None
            raise StorageError(self.name, exc) from exc


def _is_dir(entry) -> bool:
    try:
        return entry.is_dir()  # follows symlinks, as locate() does
    except OSError:
        return False


@hookimpl
def symbolsrv_storage_for(location, cfg):
    url = urlsplit(location)
    if url.scheme != "file":
        return None
    if url.netloc not in ("", "localhost") or url.fragment:
        raise ConfigurationError(f"{location!r}: expected file:///absolute/directory")
    root = unquote(url.path)
    if not os.path.isabs(root):
        raise ConfigurationError(f"{location!r}: the directory must be an absolute path")
    shown = location.partition("?")[0]
    options = parse_location_options(shown, url.query, OPTIONS, "file")
    return LocalStorage(root, **options)


# This plugin's `?name=value` options and their converters (README: Locations).
OPTIONS = {"public_url": public_base_url}
