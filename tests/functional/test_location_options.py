"""Per-location layout and casing through the whole app, with locations described in INI
sections: a SymStore two-tier store, a lower-cased store and a plain one, in that order."""

from __future__ import annotations

import json

import pytest
from webtest import TestApp

from symbolsrv import main
from symbolsrv.errors import ConfigurationError
from symbolsrv.settings import DEFAULT_PLUGINS
from tests.functional import fake_storage
from tests.functional.scenarios import LocalStore, url
from tests.functional.wsgi_client import WebTestClient

DEBUG_ID = "3249D99D0C4049318610F4E4FB0B69361"
PDB = f"Crash.pdb/{DEBUG_ID}/Crash.pdb"  # as a symsrv client asks
INDEX2 = f"Cr/{PDB}"  # where a SymStore two-tier store keeps it
LOWER = PDB.lower()

INI = """\
[app:main]
use = egg:symbolsrv
symbolsrv.locations =
    symstore
    folded
    plain
sqlalchemy.url = sqlite:///%(here)s/db.sqlite

[location:symstore]
url = count+file://%(here)s/symstore
layout = index2
casing = as-is

[location:folded]
url = count+file://%(here)s/folded
casing = upper-id, lower

[location:plain]
url = count+file://%(here)s/plain
"""


@pytest.fixture
def site(tmp_path):
    """The app built from INI, as pserve builds it, and its three stores."""
    ini = tmp_path / "site.ini"
    ini.write_text(INI, encoding="utf-8")
    stores = {name: LocalStore(tmp_path / name) for name in ("symstore", "folded", "plain")}
    settings = {
        "symbolsrv.locations": "symstore folded plain",
        "symbolsrv.plugins": f"{DEFAULT_PLUGINS} {fake_storage.MODULE}",
        "sqlalchemy.url": f"sqlite:///{tmp_path / 'db.sqlite'}",
    }
    router = main({"__file__": str(ini), "here": str(tmp_path)}, **settings)
    server = router.registry["symbolsrv.app"]
    yield WebTestClient(TestApp(router)), server, stores
    server.misslog.close()
    server.chain.close()
    server.engine.dispose()


def asked(storage) -> list[str]:
    return [key.path for key in storage.calls]


def test_each_location_is_asked_in_its_own_layout_and_casing(site):
    client, server, stores = site
    symstore, folded, plain = server.chain.regular
    assert client.get(url(PDB)).status == 404
    assert asked(symstore) == [INDEX2]
    assert asked(folded) == [PDB, LOWER]
    # casing=auto: Windows names are also asked lower-cased (the id as looked up).
    assert asked(plain) == [PDB, f"crash.pdb/{DEBUG_ID}/crash.pdb"]


def test_a_windows_name_in_another_case_is_found_by_default(site):
    client, server, stores = site
    stored = f"crash.pdb/{DEBUG_ID}/crash.pdb"
    stores["plain"].put(stored, b"MSF 7.00 lower-case names")
    stores["plain"].assert_serves(client.get(url(f"CRASH.PDB/{DEBUG_ID.lower()}/CRASH.PDB")),
                                  stored, b"MSF 7.00 lower-case names")
    data = json.loads(client.get(url(f"Crash.pdb/{DEBUG_ID}/Crash.pdb", "_trace=1")).body)
    assert data["steps"][-1]["outcome"] == "hit (lower names)"


def test_a_two_tier_store_serves_its_file(site):
    client, server, stores = site
    stores["symstore"].put(INDEX2, b"MSF 7.00 two-tier")
    stores["symstore"].assert_serves(client.get(url(PDB)), INDEX2, b"MSF 7.00 two-tier")


def test_a_lower_cased_store_serves_a_mixed_case_request(site):
    client, server, stores = site
    stores["folded"].put(LOWER, b"MSF 7.00 folded")
    stores["folded"].assert_serves(client.get(url(PDB)), LOWER, b"MSF 7.00 folded")
    # A lower-case id is upper-cased for the key, but the folded store still gets lower case.
    stores["folded"].assert_serves(client.get(url(f"Crash.pdb/{DEBUG_ID.lower()}/Crash.pdb")),
                                   LOWER, b"MSF 7.00 folded")


def test_ranking_holds_across_layouts(site):
    client, server, stores = site
    stores["plain"].put(PDB, b"plain")
    stores["folded"].put(LOWER, b"folded")
    stores["folded"].assert_serves(client.get(url(PDB)), LOWER, b"folded")


def test_as_is_casing_does_not_upper_case_the_id(site):
    client, server, stores = site
    symstore = server.chain.regular[0]
    sent = f"Crash.pdb/{DEBUG_ID.lower()}/Crash.pdb"
    stores["symstore"].put(f"Cr/{sent}", b"as sent")
    stores["symstore"].assert_serves(client.get(url(sent)), f"Cr/{sent}", b"as sent")
    assert asked(symstore) == [f"Cr/{sent}"]


def test_the_trace_names_the_location_and_the_form_that_hit(site):
    client, server, stores = site
    stores["folded"].put(LOWER, b"folded")
    data = json.loads(client.get(url(PDB, "_trace=1")).body)
    steps = [(s["location"].rsplit("/", 1)[1], s["outcome"]) for s in data["steps"]]
    assert steps[:2] == [("symstore", "absent"), ("folded", "hit (lower)")]


def test_a_miss_is_one_row_of_the_canonical_key(site):
    client, server, stores = site
    assert client.get(url(f"Crash.pdb/{DEBUG_ID.lower()}/Crash.pdb")).status == 404
    assert server.misslog.flush()
    with server.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT debug_file, debug_id, symbol_file, count FROM missing_symbols").all()
    assert rows == [("Crash.pdb", DEBUG_ID, "Crash.pdb", 1)]


def test_a_bad_option_in_a_section_stops_start_up(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text(f"[location:x]\nurl = {(tmp_path).as_uri()}\nlayout = two-tier\n")
    settings = {"symbolsrv.locations": "x", "sqlalchemy.url": "sqlite://"}
    with pytest.raises(ConfigurationError, match="bad value for layout: 'two-tier'"):
        main({"__file__": str(ini)}, **settings)
