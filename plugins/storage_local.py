"""file:///abs/dir — a symbol store on local disk or NFS; symbolsrv streams the bytes itself."""

from __future__ import annotations

import errno
import os
import stat
from urllib.parse import unquote, urlsplit

from symbolsrv import hookimpl
from symbolsrv.errors import ConfigurationError, StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.storage import Hit

# Errors that mean "no such file can exist here", not "the disk is failing".
_ABSENT = {errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.EINVAL}


class LocalStorage:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
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
        return Hit(location=self.name, path=path)

    def ping(self) -> None:
        if not os.path.isdir(self.root) or not os.access(self.root, os.R_OK | os.X_OK):
            raise StorageError(self.name, "directory missing or unreadable")


@hookimpl
def symbolsrv_storage_for(location, cfg):
    url = urlsplit(location)
    if url.scheme != "file":
        return None
    if url.netloc not in ("", "localhost") or url.query:
        raise ConfigurationError(f"{location!r}: expected file:///absolute/directory")
    root = unquote(url.path)
    if not os.path.isabs(root):
        raise ConfigurationError(f"{location!r}: the directory must be an absolute path")
    return LocalStorage(root)
