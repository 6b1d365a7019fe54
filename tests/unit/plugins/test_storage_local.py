"""plugins.storage_local: LocalStorage over tmp_path and its file:// hook."""

import os
import shutil

import pytest

from plugins.storage_local import LocalStorage, symbolsrv_storage_for
from symbolsrv.errors import ConfigurationError, StorageError
from symbolsrv.keys import SymbolKey
from symbolsrv.storage import Hit

ID = "44E4EC8C2F41492B9369D6B9A059577C2"
KEY = SymbolKey("xul.pdb", ID, "xul.sym")


def put(root, key, data=b"MODULE windows x86_64 ...\n"):
    path = root.joinpath(key.debug_file, key.debug_id, key.symbol_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "symbols"
    root.mkdir()
    return root


@pytest.fixture
def storage(root):
    return LocalStorage(str(root))


def test_name_labels_the_absolute_root(root):
    assert LocalStorage(str(root)).name == f"file:{root}"


def test_present_file_is_a_hit_with_its_path(storage, root):
    path = put(root, KEY)
    assert storage.locate(KEY) == Hit(location=f"file:{root}", path=str(path))


@pytest.mark.parametrize(
    "key",
    [
        SymbolKey("Demo App", ID, "Demo App.sym"),
        SymbolKey("libc++.so", ID, "libc++.so.sym"),
        SymbolKey("汉字.pdb", ID, "汉字.sym"),
        SymbolKey("a@b{c}.dll", ID, "a@b{c}.sym"),
    ],
)
def test_names_with_odd_characters_are_found(storage, root, key):
    path = put(root, key)
    assert storage.locate(key).path == str(path)


def test_absent_file_is_none(storage, root):
    put(root, KEY)
    assert storage.locate(SymbolKey("xul.pdb", ID, "other.sym")) is None
    assert storage.locate(SymbolKey("nope.pdb", ID, "nope.sym")) is None


def test_lookup_is_case_sensitive_like_the_filesystem(storage, root):
    put(root, KEY)
    assert storage.locate(SymbolKey("XUL.pdb", ID, "xul.sym")) is None


def test_directory_at_the_key_is_none(storage, root):
    (root / KEY.debug_file / KEY.debug_id / KEY.symbol_file).mkdir(parents=True)
    assert storage.locate(KEY) is None


def test_file_where_a_directory_is_expected_is_none(storage, root):
    (root / "xul.pdb").write_bytes(b"not a directory")  # stat gives ENOTDIR
    assert storage.locate(KEY) is None


def test_over_long_non_ascii_name_is_none_not_an_error(storage):
    name = "汉" * 250  # 750 bytes: ENAMETOOLONG
    assert storage.locate(SymbolKey(name, ID, name + ".sym")) is None


def test_key_escaping_the_root_is_none(storage, tmp_path):
    # root/../outside/secret.sym exists on disk, but is not under the root.
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.sym").write_bytes(b"secret")
    assert storage.locate(SymbolKey("..", "outside", "secret.sym")) is None


def test_symlink_to_a_file_inside_the_root_is_a_hit(storage, root):
    target = put(root, SymbolKey("real.pdb", ID, "real.sym"))
    link = root / "xul.pdb" / ID / "xul.sym"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    assert storage.locate(KEY).path == str(link)


def test_removed_root_is_a_storage_error_not_a_miss(storage, root):
    shutil.rmtree(root)
    with pytest.raises(StorageError) as exc_info:
        storage.locate(KEY)
    assert exc_info.value.location == f"file:{root}"
    assert "root directory is missing" in str(exc_info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions, so chmod 000 cannot deny access")
def test_unreadable_directory_is_a_storage_error(storage, root):
    path = put(root, KEY)
    path.parent.chmod(0)
    try:
        with pytest.raises(StorageError):
            storage.locate(KEY)
    finally:
        path.parent.chmod(0o755)


def test_filesystem_errors_other_than_absent_are_storage_errors(storage, root):
    # A symlink loop gives ELOOP: the store is broken, which is not the same as "absent".
    loop = root / KEY.debug_file / KEY.debug_id / KEY.symbol_file
    loop.parent.mkdir(parents=True)
    loop.symlink_to(loop)
    with pytest.raises(StorageError) as exc_info:
        storage.locate(KEY)
    assert exc_info.value.location == f"file:{root}"


def test_ping_passes_for_a_readable_root(storage):
    assert storage.ping() is None


def test_ping_fails_when_the_root_is_gone(storage, root):
    root.rmdir()
    with pytest.raises(StorageError, match="missing or unreadable"):
        storage.ping()


def test_ping_fails_when_the_root_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"")
    with pytest.raises(StorageError):
        LocalStorage(str(path)).ping()


# ---------------------------------------------------------------- the hook


@pytest.mark.parametrize("location", ["s3://bucket/v1", "gs://bucket", "https://example.test/"])
def test_hook_ignores_other_schemes(cfg, location):
    assert symbolsrv_storage_for(location=location, cfg=cfg) is None


@pytest.mark.parametrize(
    "location, root",
    [
        ("file:///srv/symbols", "/srv/symbols"),
        ("file://localhost/srv/symbols", "/srv/symbols"),
        ("file:///srv/symbols/", "/srv/symbols"),
        ("file:///srv/Demo%20App", "/srv/Demo App"),
        ("file:///srv/a/../b", "/srv/b"),
    ],
)
def test_hook_builds_local_storage_for_file_urls(cfg, location, root):
    storage = symbolsrv_storage_for(location=location, cfg=cfg)
    assert isinstance(storage, LocalStorage)
    assert storage.root == root


@pytest.mark.parametrize(
    "location, message",
    [
        ("file://otherhost/srv/symbols", "expected file:///absolute/directory"),
        ("file:///srv/symbols?x=1", "unknown file option 'x' \\(known: public_url"),
        ("file:///srv/symbols?public_url=ftp://cdn.example/s", "bad value for public_url"),
        ("file:///srv/symbols?public_url=https://cdn.example/s?sig=1", "bad value for public_url"),
        ("file:///srv/symbols?public_url=https://cdn.example/%E2%82%AC", "ASCII without spaces"),
        ("file:///srv/symbols?public_url=https://cdn.example/a%0Ab", "ASCII without spaces"),
        ("file:///srv/symbols?public_url=https://cdn.example/a+b", "ASCII without spaces"),
        ("file:///srv/symbols?public_url=https://", "expected http"),
        ("file:///srv/symbols#frag", "expected file:///absolute/directory"),
        ("file:relative/dir", "must be an absolute path"),
    ],
)
def test_hook_rejects_unusable_file_urls(cfg, location, message):
    with pytest.raises(ConfigurationError, match=message):
        symbolsrv_storage_for(location=location, cfg=cfg)


def test_public_url_redirects_to_the_published_copy_after_checking_the_disk(tmp_path, cfg):
    (tmp_path / "c++filt" / ID).mkdir(parents=True)
    (tmp_path / "c++filt" / ID / "c++filt.sym").write_bytes(b"MODULE")
    storage = symbolsrv_storage_for(
        location=f"{tmp_path.as_uri()}?public_url=https://cdn.example.com/symbols/", cfg=cfg)
    hit = storage.locate(SymbolKey("c++filt", ID, "c++filt.sym"))
    assert hit.path is None
    assert hit.url == f"https://cdn.example.com/symbols/c%2B%2Bfilt/{ID}/c%2B%2Bfilt.sym"
    assert storage.locate(SymbolKey("c++filt", ID, "absent.sym")) is None
