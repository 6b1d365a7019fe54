"""Locations described in `[location:<name>]` INI sections (symbolsrv/location_sections.py)."""

from __future__ import annotations

import pytest

from symbolsrv.errors import ConfigurationError
from symbolsrv.location_sections import expand_location, read_location_sections
from symbolsrv.settings import load_settings

INI = """\
[app:main]
use = egg:symbolsrv
symbolsrv.locations =
    primary
    https://symbols.example.org/
symbolsrv.try_locations = tries
sqlalchemy.url = sqlite://

[location:primary]
url = s3://org-symbols/v1
region = us-west-2
public_url = https://cdn.example.com/v1
casing = upper-id,
    lower

[location:tries]
url = file://%(here)s/try

[server:main]
use = egg:waitress#main
"""


@pytest.fixture
def ini(tmp_path):
    path = tmp_path / "site.ini"
    path.write_text(INI, encoding="utf-8")
    return path


def test_sections_are_read_with_here_interpolated(ini):
    sections = read_location_sections(str(ini))
    assert sections == {
        "primary": {"url": "s3://org-symbols/v1", "region": "us-west-2",
                    "public_url": "https://cdn.example.com/v1", "casing": "upper-id,\nlower"},
        "tries": {"url": f"file://{ini.parent}/try"},
    }


def test_a_config_uri_with_a_section_name_reads_the_file(ini):
    assert set(read_location_sections(f"{ini}#main")) == {"primary", "tries"}


def test_load_settings_turns_section_names_into_urls_with_options(ini):
    from pyramid.paster import get_appsettings

    cfg = load_settings(get_appsettings(str(ini)), read_location_sections(str(ini)))
    assert cfg.locations == (
        "s3://org-symbols/v1?region=us-west-2&public_url=https%3A%2F%2Fcdn.example.com%2Fv1"
        "&casing=upper-id%2C+lower",
        "https://symbols.example.org/",
    )
    assert cfg.try_locations == (f"file://{ini.parent}/try",)


def test_a_section_option_joins_the_url_query():
    sections = {"m": {"url": "http://mirror.example/s?timeout_seconds=2", "max_redirects": "1"}}
    assert expand_location("m", sections) == "http://mirror.example/s?timeout_seconds=2&max_redirects=1"


def test_an_unknown_name_is_a_clear_error():
    with pytest.raises(ConfigurationError, match=r"'primry' is not a URL \(scheme://…\) and there is "
                                                 r"no \[location:primry\] section \(sections: primary\)"):
        expand_location("primry", {"primary": {"url": "s3://b"}})


@pytest.mark.parametrize("section", [{}, {"url": ""}, {"url": "org-symbols/v1"}])
def test_a_section_without_a_url_is_a_clear_error(section):
    with pytest.raises(ConfigurationError, match=r"\[location:p\] needs a `url = <scheme>://"):
        expand_location("p", {"p": section})


def test_no_file_means_no_sections():
    assert read_location_sections(None) == {}
    assert read_location_sections("") == {}


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read location sections"):
        read_location_sections(str(tmp_path / "absent.ini"))


def test_a_duplicate_option_is_a_clear_error(tmp_path):
    path = tmp_path / "dup.ini"
    path.write_text("[location:p]\nurl = s3://b\nurl = s3://c\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cannot read location sections.*'url'"):
        read_location_sections(str(path))


def test_settings_without_sections_refuse_a_bare_name():
    with pytest.raises(ConfigurationError, match="'primary' is not a URL"):
        load_settings({"symbolsrv.locations": "primary", "sqlalchemy.url": "sqlite://"})


def test_plaster_uris_and_variables_are_understood(ini, tmp_path):
    for uri in (f"pastedeploy+ini://{ini}", f"file+ini://{ini}", f"{ini}?x=1#main"):
        assert set(read_location_sections(uri)) == {"primary", "tries"}, uri
    vars_ini = tmp_path / "vars.ini"
    vars_ini.write_text("[location:p]\nurl = file://%(root)s/store\n", encoding="utf-8")
    assert read_location_sections(f"{vars_ini}?root=/from-uri")["p"]["url"] == (
        "file:///from-uri/store")
    assert read_location_sections(str(vars_ini), {"root": "/from-pserve"})["p"]["url"] == (
        "file:///from-pserve/store")


def test_default_keys_interpolate_but_are_no_options_of_a_section(tmp_path):
    # As in PasteDeploy, the file's [DEFAULT] wins over variables given from outside.
    path = tmp_path / "defaults.ini"
    path.write_text("[DEFAULT]\ncasing = lower\nroot = /from-default\n"
                    "[location:p]\nurl = file://%(root)s/store\ncasing = upper-id\n"
                    "[location:q]\nurl = file:///q\n", encoding="utf-8")
    assert read_location_sections(str(path), {"root": "/from-pserve"}) == {
        "p": {"url": "file:///from-default/store", "casing": "upper-id"},
        "q": {"url": "file:///q"},
    }


def test_a_bad_interpolation_names_the_place_and_never_the_value(tmp_path):
    path = tmp_path / "secret.ini"
    path.write_text("[location:p]\nurl = https://user:p%40ss@example.invalid/sym\n")
    with pytest.raises(ConfigurationError) as info:
        read_location_sections(str(path))
    assert str(info.value).startswith("[location:p] url: bad %-interpolation (write a literal %")
    assert "40ss" not in str(info.value)


def test_a_url_of_two_lines_is_refused_without_showing_it():
    with pytest.raises(ConfigurationError, match=r"\[location:p\] needs a `url = <scheme>://…` "
                                                 r"line holding one URL$"):
        expand_location("p", {"p": {"url": "file:///srv/a\nfile:///srv/b"}})


def test_a_section_nothing_names_is_reported(caplog):
    sections = {"used": {"url": "file:///a"}, "s3://b": {"url": "file:///b"}}
    cfg = load_settings({"symbolsrv.locations": "used", "sqlalchemy.url": "sqlite://"}, sections)
    assert cfg.locations == ("file:///a",)
    assert "[location:s3://b] is not named in symbolsrv.locations or try_locations" in caplog.text
