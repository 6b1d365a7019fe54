"""plugins.rewrite_legacy: old symbols.mozilla.org URL segments -> canonical SymbolKey."""

import pytest

from plugins.rewrite_legacy import symbolsrv_parse_path
from symbolsrv.keys import SymbolKey
from symbolsrv.settings import DEFAULT_PRODUCTS, load_settings

CFG = load_settings({"symbolsrv.locations": "file:///srv/symbols", "sqlalchemy.url": "sqlite://"})
ID = "44E4EC8C2F41492B9369D6B9A059577C2"
LOWER_ID = ID.lower()
MIXED_ID = "44e4EC8c2f41492B9369d6b9A059577c2"


def parse(path: str, cfg=CFG):
    return symbolsrv_parse_path(segments=tuple(path.strip("/").split("/")), cfg=cfg)


@pytest.mark.parametrize(
    "path, key",
    [
        # Plain three-part form: names as sent, id upper-cased.
        (f"/xul.pdb/{ID}/xul.sym", SymbolKey("xul.pdb", ID, "xul.sym")),
        (f"/xul.pdb/{LOWER_ID}/xul.sym", SymbolKey("xul.pdb", ID, "xul.sym")),
        (f"/xul.pdb/{MIXED_ID}/xul.sym", SymbolKey("xul.pdb", ID, "xul.sym")),
        (f"/XUL/{LOWER_ID}/XUL.sym", SymbolKey("XUL", ID, "XUL.sym")),
        (f"/Xul.PDB/{ID}/Xul.SYM", SymbolKey("Xul.PDB", ID, "Xul.SYM")),
        (f"/libxul.so/{LOWER_ID}/libxul.so.dbg.gz", SymbolKey("libxul.so", ID, "libxul.so.dbg.gz")),
        # A binary named "firefox": three parts, so not a product prefix.
        (
            "/firefox/946c0c63132015dd88ca2efcbb9ac4c70/firefox.sym",
            SymbolKey("firefox", "946C0C63132015DD88CA2EFCBB9AC4C70", "firefox.sym"),
        ),
        # Product prefix dropped, names kept, id upper-cased.
        (f"/firefox/xul.pdb/{LOWER_ID}/xul.sym", SymbolKey("xul.pdb", ID, "xul.sym")),
        (f"/thunderbird/XUL/{MIXED_ID}/XUL.sym", SymbolKey("XUL", ID, "XUL.sym")),
        # Unrecognised forms.
        (f"/Firefox/xul.pdb/{ID}/xul.sym", None),  # products are case-sensitive, as on Apache
        (f"/chrome/xul.pdb/{ID}/xul.sym", None),
        (f"/try/xul.pdb/{ID}/xul.sym", None),  # /try/ is stripped by the resolver, not here
        (f"/xul.pdb/{ID}", None),
        ("/xul.sym", None),
        (f"/a/firefox/xul.pdb/{ID}/xul.sym", None),
        (f"/firefox/b2g/xul.pdb/{ID}/xul.sym", None),
        # The debuginfod namespace belongs to plugins.rewrite_debuginfod (lower-case ids).
        (f"/buildid/{LOWER_ID}/debuginfo", None),
        (f"/buildid/{LOWER_ID}/executable", None),
        (f"/buildid/{ID}/buildid.sym", None),
    ],
)
def test_legacy_url_segments_map_to_the_canonical_key(path, key):
    assert parse(path) == key


@pytest.mark.parametrize("product", DEFAULT_PRODUCTS.split())
def test_each_default_product_prefix_is_dropped(product):
    assert parse(f"/{product}/xul.pdb/{LOWER_ID}/xul.sym") == SymbolKey("xul.pdb", ID, "xul.sym")


def test_product_list_comes_from_settings():
    cfg = load_settings({
        "symbolsrv.locations": "file:///srv/symbols",
        "sqlalchemy.url": "sqlite://",
        "symbolsrv.legacy_products": "nightly",
    })
    assert parse(f"/nightly/xul.pdb/{ID}/xul.sym", cfg) == SymbolKey("xul.pdb", ID, "xul.sym")
    assert parse(f"/firefox/xul.pdb/{ID}/xul.sym", cfg) is None


def test_ids_that_are_not_hex_are_still_upper_cased_and_left_to_check_key():
    # The plugin only rewrites; rejecting bad ids is the resolver's job (check_key).
    assert parse("/xul.pdb/null/xul.sym") == SymbolKey("xul.pdb", "NULL", "xul.sym")
