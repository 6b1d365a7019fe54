"""symbolsrv.keys: path splitting, name checks, debug_id checks and key quoting."""

import pytest

from symbolsrv.errors import BadPath
from symbolsrv.keys import (
    MAX_NAME_LENGTH,
    MAX_PATH_LENGTH,
    SymbolKey,
    canonical_key,
    check_key,
    check_name,
    has_allowed_extension,
    is_all_zero,
    split_path,
)

DEBUG_ID = "44E4EC8C2F41492B9369D6B9A059577C2"


def wsgi(path: str) -> str:
    """PATH_INFO as a WSGI server hands it over: UTF-8 bytes decoded as latin-1 (PEP 3333)."""
    return path.encode("utf-8").decode("latin-1")


# ---------------------------------------------------------------- split_path: accepted


@pytest.mark.parametrize(
    "path, segments",
    [
        (f"/xul.pdb/{DEBUG_ID}/xul.sym", ("xul.pdb", DEBUG_ID, "xul.sym")),
        (f"xul.pdb/{DEBUG_ID}/xul.sym", ("xul.pdb", DEBUG_ID, "xul.sym")),
        (f"/firefox/xul.pdb/{DEBUG_ID}/xul.sym", ("firefox", "xul.pdb", DEBUG_ID, "xul.sym")),
        (f"/libc++.so/{DEBUG_ID}/libc++.so.sym", ("libc++.so", DEBUG_ID, "libc++.so.sym")),
        (f"/Demo App/{DEBUG_ID}/Demo App.sym", ("Demo App", DEBUG_ID, "Demo App.sym")),
        (f"/a@b{{c}}.dll/{DEBUG_ID}/a@b{{c}}.sym", ("a@b{c}.dll", DEBUG_ID, "a@b{c}.sym")),
        (f"/汉字.pdb/{DEBUG_ID}/汉字.sym", ("汉字.pdb", DEBUG_ID, "汉字.sym")),
        (f"/Grüße.dll/{DEBUG_ID}/Grüße.sym", ("Grüße.dll", DEBUG_ID, "Grüße.sym")),
        (f"/☃.so/{DEBUG_ID}/☃.so.sym", ("☃.so", DEBUG_ID, "☃.so.sym")),
        (f"/{'a' * MAX_NAME_LENGTH}/{DEBUG_ID}/x.sym", ("a" * MAX_NAME_LENGTH, DEBUG_ID, "x.sym")),
        ("/...pdb/x/y", ("...pdb", "x", "y")),
    ],
)
def test_split_path_accepts_plausible_names_and_decodes_utf8(path, segments):
    assert split_path(wsgi(path)) == segments


def test_split_path_accepts_a_path_of_exactly_the_maximum_length():
    name = "a" * 200
    path = "/" + "/".join([name] * 5)
    path += "/" + "b" * (MAX_PATH_LENGTH - len(path) - 1)
    assert len(path) == MAX_PATH_LENGTH
    assert len(split_path(path)) == 6


# ---------------------------------------------------------------- split_path: rejected


@pytest.mark.parametrize(
    "path, reason",
    [
        ("", "empty path segment"),
        ("/", "empty path segment"),
        ("//id/x.sym", "empty path segment"),
        ("/xul.pdb//xul.sym", "empty path segment"),
        (f"/xul.pdb/{DEBUG_ID}/", "empty path segment"),
        (f"/./{DEBUG_ID}/xul.sym", "dot segment in path"),
        ("/xul.pdb/../xul.sym", "dot segment in path"),
        (f"/xul.pdb/{DEBUG_ID}/..", "dot segment in path"),
        (f"/a\x00.pdb/{DEBUG_ID}/a.sym", "control character in path"),
        (f"/a\x1f.pdb/{DEBUG_ID}/a.sym", "control character in path"),
        (f"/xul.pdb/{DEBUG_ID}/xul\n.sym", "control character in path"),
        (f"/xul.pdb/{DEBUG_ID}/xul\t.sym", "control character in path"),
        (f"/a\x7f.pdb/{DEBUG_ID}/a.sym", "control character in path"),
        (f"/a\x85.pdb/{DEBUG_ID}/a.sym", "control character in path"),
        (f"/a\x9f.pdb/{DEBUG_ID}/a.sym", "control character in path"),
        (f"/a\\b.pdb/{DEBUG_ID}/a.sym", "forbidden character in path"),
        (f"/a<b.pdb/{DEBUG_ID}/a.sym", "forbidden character in path"),
        (f"/a>b.pdb/{DEBUG_ID}/a.sym", "forbidden character in path"),
        (f'/a"b.pdb/{DEBUG_ID}/a.sym', "forbidden character in path"),
        (f"/a|b.pdb/{DEBUG_ID}/a.sym", "forbidden character in path"),
        (f"/a*b.pdb/{DEBUG_ID}/a.sym", "forbidden character in path"),
        (f"/a?b.pdb/{DEBUG_ID}/a.sym", "forbidden character in path"),
        (f"/a'b.pdb/{DEBUG_ID}/a.sym", "forbidden character in path"),
        (f"/a`b.pdb/{DEBUG_ID}/a.sym", "forbidden character in path"),
        (f"/{'a' * (MAX_NAME_LENGTH + 1)}/{DEBUG_ID}/a.sym", "name longer than 200 characters"),
        (f"/{'汉' * (MAX_NAME_LENGTH + 1)}/{DEBUG_ID}/a.sym", "name longer than 200 characters"),
    ],
)
def test_split_path_rejects_impossible_names_with_a_reason(path, reason):
    with pytest.raises(BadPath) as exc_info:
        split_path(wsgi(path))
    assert str(exc_info.value) == reason


@pytest.mark.parametrize(
    "latin1_path",
    [
        "/\xff\xfe/a/b",  # bytes ff fe: never valid UTF-8
        "/xul.pdb/\xc3/xul.sym",  # a truncated two-byte sequence
        "/\xe6\xb1/a/b",  # a truncated three-byte sequence (first two bytes of 汉)
        "/\xed\xa0\x80.pdb/a/b",  # an encoded surrogate, invalid in UTF-8
        "/\x85.pdb/a/b",  # a lone continuation byte
    ],
)
def test_split_path_rejects_invalid_utf8(latin1_path):
    with pytest.raises(BadPath, match="^path is not valid UTF-8$"):
        split_path(latin1_path)


def test_split_path_rejects_a_str_that_is_not_latin1_as_invalid_utf8():
    # A caller that forgot the PEP 3333 decoding hands over real code points above U+00FF.
    with pytest.raises(BadPath, match="not valid UTF-8"):
        split_path("/汉.pdb/a/b")


def test_split_path_rejects_a_path_longer_than_the_maximum_before_anything_else():
    path = "/" + "/".join(["a" * 150] * 7)  # every name fine, 1057 characters in all
    assert len(path) > MAX_PATH_LENGTH
    with pytest.raises(BadPath, match="^path longer than 1024 bytes$"):
        split_path(path)


def test_split_path_counts_path_length_in_utf8_bytes():
    # 342 snowmen are 342 characters but 1026 bytes: PATH_INFO is measured as sent.
    path = wsgi("/" + "☃" * 341 + "/a/b")
    assert len(path) > MAX_PATH_LENGTH
    with pytest.raises(BadPath, match="path longer than"):
        split_path(path)


# ---------------------------------------------------------------- check_key


@pytest.mark.parametrize(
    "debug_id",
    [
        "5F3B2C1A9",  # 9: shortest PE code id
        "44E4EC8C2F41492B9369D6B9A059577C2",  # 33: PDB GUID + age
        "44e4ec8c2f41492b9369d6b9a059577c2",  # lower case is still hex
        "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",  # 64
        "000000000000000000000000000000000",  # all-zero is hex (ignored elsewhere)
    ],
)
def test_check_key_accepts_9_to_64_hex_digits(debug_id):
    assert check_key(SymbolKey("xul.pdb", debug_id, "xul.sym")) is None


@pytest.mark.parametrize(
    "debug_id",
    [
        "5F3B2C1A",  # 8
        "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0",  # 65
        "null",
        "44E4EC8C-2F41-492B-9369-D6B9A059577C",  # dashed GUID
        "{44E4EC8C-2F41-492B-9369-D6B9A059577C}",
        "0x44E4EC8C2F41492B9369D6B9A059577C2",
        "XYZ4EC8C2F41492B9369D6B9A059577C2",
        "44E4EC8C2F41492B9369D6B9A059577C2\n",  # trailing newline must not sneak past $
        " 44E4EC8C2F41492B9369D6B9A059577C2",
        "４４E4EC8C2F41492B9369D6B9A059577C2",  # fullwidth digits are not hex digits
    ],
)
def test_check_key_rejects_ids_that_are_not_9_to_64_hex_digits(debug_id):
    with pytest.raises(BadPath, match="9 to 64 hexadecimal digits"):
        check_key(SymbolKey("xul.pdb", debug_id, "xul.sym"))


# ---------------------------------------------------------------- SymbolKey / canonical_key


def test_canonical_key_uppercases_the_debug_id_only():
    key = canonical_key("XUL.pdb", "44e4ec8c2f41492b9369d6b9a059577c2", "xul.Sym")
    assert key == SymbolKey("XUL.pdb", "44E4EC8C2F41492B9369D6B9A059577C2", "xul.Sym")


def test_key_path_joins_the_three_names_with_slashes():
    assert SymbolKey("xul.pdb", DEBUG_ID, "xul.sym").path == f"xul.pdb/{DEBUG_ID}/xul.sym"


@pytest.mark.parametrize(
    "debug_file, quoted",
    [
        ("libc++.so", "libc%2B%2B.so"),
        ("Demo App", "Demo%20App"),
        ("汉", "%E6%B1%89"),
        ("ü", "%C3%BC"),
        ("a@b", "a%40b"),
        ("{x}", "%7Bx%7D"),
        ("%41", "%2541"),
        ("a;b=c&d#e", "a%3Bb%3Dc%26d%23e"),
        ("safe-_.~Name09", "safe-_.~Name09"),
    ],
)
def test_quoted_path_percent_encodes_each_name_as_utf8(debug_file, quoted):
    key = SymbolKey(debug_file, DEBUG_ID, "x.sym")
    assert key.quoted_path == f"{quoted}/{DEBUG_ID}/x.sym"


def test_quoted_path_is_ascii_only_and_keeps_the_slashes():
    key = SymbolKey("汉 ☃+@{}.pdb", DEBUG_ID, "Grüße sym+.sym")
    quoted = key.quoted_path
    assert quoted.isascii()
    assert quoted.count("/") == 2
    assert quoted == "%E6%B1%89%20%E2%98%83%2B%40%7B%7D.pdb/" + DEBUG_ID + "/Gr%C3%BC%C3%9Fe%20sym%2B.sym"


# ---------------------------------------------------------------- is_all_zero


@pytest.mark.parametrize(
    "debug_id, expected",
    [
        ("000000000000000000000000000000000", True),
        ("0" * 40, True),
        ("000000000000000000000000000000001", False),
        ("100000000000000000000000000000000", False),
        ("44E4EC8C2F41492B9369D6B9A059577C2", False),
    ],
)
def test_is_all_zero_is_true_only_for_ids_made_of_zeros(debug_id, expected):
    assert is_all_zero(debug_id) is expected


# ---------------------------------------------------------------- has_allowed_extension

EXTENSIONS = (".sym", ".pdb", ".dbg.gz")


@pytest.mark.parametrize(
    "symbol_file, expected",
    [
        ("xul.sym", True),
        ("XUL.SYM", True),
        ("xul.Pdb", True),
        ("libxul.so.dbg.gz", True),
        ("libxul.so.DBG.GZ", True),
        ("xul.symx", False),
        ("xul.gz", False),
        ("sym", False),
        ("file.ptr", False),
    ],
)
def test_has_allowed_extension_matches_endings_case_insensitively(symbol_file, expected):
    assert has_allowed_extension(symbol_file, EXTENSIONS) is expected


@pytest.mark.parametrize("name", ["...", "....", "a%2e", "%252e%252e", "a\u2028b", "a\u202eb",
                                  "a\u200bb", "\ufeffxul.pdb", "a\u2066b"])
def test_dot_runs_leftover_percent_and_invisible_format_characters_are_rejected(name):
    with pytest.raises(BadPath):
        check_name(name)
