"""symbolsrv.settings: the settings table, its defaults and its error messages."""

import dataclasses
from pathlib import Path

import pytest
from pyramid.paster import get_appsettings

from symbolsrv.errors import ConfigurationError
from symbolsrv.settings import SETTINGS, Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
MINIMAL_INI = {"symbolsrv.locations": "file:///srv/symbols", "sqlalchemy.url": "sqlite://"}


def load(**extra):
    return load_settings({**MINIMAL_INI, **extra})


def test_defaults_apply_when_only_required_keys_are_given():
    cfg = load_settings(MINIMAL_INI)
    assert cfg.locations == ("file:///srv/symbols",)
    assert cfg.try_locations == ()
    assert cfg.plugins == (
        "plugins.storage_local", "plugins.storage_s3", "plugins.storage_gcs",
        "plugins.storage_http", "plugins.rewrite_legacy", "plugins.rewrite_debuginfod",
    )
    assert cfg.legacy_products == (
        "firefox", "seamonkey", "sunbird", "thunderbird", "xulrunner", "fennec", "b2g",
    )
    assert ".sym" in cfg.allowed_extensions and ".pdb" in cfg.allowed_extensions
    assert ".dbg.gz" in cfg.allowed_extensions
    assert cfg.allowed_names == ("debuginfo", "executable")
    assert cfg.redirect_max_age_seconds == 3600
    assert cfg.storage_timeout_seconds == 5.0
    assert cfg.retry_after_seconds == 30
    assert cfg.miss_flush_interval_seconds == 1.0
    assert cfg.miss_buffer_max_rows == 100000
    assert cfg.concurrent_lookups is True
    assert cfg.lookup_deadline_seconds == 10.0
    assert cfg.cache_url == "memory"
    assert (cfg.cache_hit_seconds, cfg.cache_miss_seconds, cfg.cache_max_entries) == (300, 30, 200000)
    assert cfg.purge_token == ""
    assert (cfg.breaker_failures, cfg.breaker_reset_seconds) == (5, 5.0)
    assert cfg.sqlalchemy_url == "sqlite://"
    assert cfg.sqlalchemy == {"sqlalchemy.url": "sqlite://"}


def test_every_table_row_names_a_settings_field():
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {row.attr for row in SETTINGS} == fields - {"sqlalchemy"}


def test_settings_are_frozen():
    cfg = load_settings(MINIMAL_INI)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.redirect_max_age_seconds = 1


def test_lists_split_on_whitespace_and_newlines_in_order():
    cfg = load(**{"symbolsrv.locations": "\n  s3://b/one \n file:///two\ts3://three\n"})
    assert cfg.locations == ("s3://b/one", "file:///two", "s3://three")


def test_allowed_extensions_are_lowercased():
    cfg = load(**{"symbolsrv.allowed_extensions": ".SYM .Pdb"})
    assert cfg.allowed_extensions == (".sym", ".pdb")


def test_numbers_are_converted_to_int_and_float():
    cfg = load(**{
        "symbolsrv.redirect_max_age_seconds": " 60 ",
        "symbolsrv.storage_timeout_seconds": "0.25",
        "symbolsrv.miss_buffer_max_rows": "0",
    })
    assert cfg.redirect_max_age_seconds == 60
    assert cfg.storage_timeout_seconds == 0.25
    assert cfg.miss_buffer_max_rows == 0


def test_other_sqlalchemy_keys_pass_through_as_strings():
    cfg = load(**{"sqlalchemy.pool_size": 8, "sqlalchemy.echo": "false", "other.key": "x"})
    assert cfg.sqlalchemy == {
        "sqlalchemy.url": "sqlite://",
        "sqlalchemy.pool_size": "8",
        "sqlalchemy.echo": "false",
    }


@pytest.mark.parametrize("key", ["symbolsrv.locations", "sqlalchemy.url"])
def test_missing_required_key_is_an_error_naming_it(key):
    raw = dict(MINIMAL_INI)
    del raw[key]
    with pytest.raises(ConfigurationError, match=f"missing required setting '{key}'"):
        load_settings(raw)


@pytest.mark.parametrize("blank", ["", "   ", "\n\n"])
def test_blank_locations_are_an_error_naming_the_key(blank):
    with pytest.raises(ConfigurationError, match="symbolsrv.locations"):
        load(**{"symbolsrv.locations": blank})


def test_unknown_symbolsrv_key_is_an_error_naming_it():
    with pytest.raises(ConfigurationError) as exc_info:
        load(**{"symbolsrv.redirect_ttl": "60"})
    assert "unknown setting 'symbolsrv.redirect_ttl'" in str(exc_info.value)
    # The message lists the real keys so the typo is easy to fix.
    assert "symbolsrv.redirect_max_age_seconds" in str(exc_info.value)


def test_keys_outside_symbolsrv_namespace_are_ignored():
    cfg = load(**{"pyramid.reload_templates": "true", "retry.attempts": "3"})
    assert cfg.locations == ("file:///srv/symbols",)


@pytest.mark.parametrize(
    "key, value",
    [
        ("symbolsrv.redirect_max_age_seconds", "1h"),
        ("symbolsrv.redirect_max_age_seconds", "3.5"),
        ("symbolsrv.redirect_max_age_seconds", "-1"),
        ("symbolsrv.retry_after_seconds", "soon"),
        ("symbolsrv.miss_buffer_max_rows", "lots"),
        ("symbolsrv.storage_timeout_seconds", "fast"),
        ("symbolsrv.storage_timeout_seconds", "0"),
        ("symbolsrv.storage_timeout_seconds", "-2.5"),
        ("symbolsrv.storage_timeout_seconds", "nan"),
        ("symbolsrv.miss_flush_interval_seconds", "0"),
    ],
)
def test_bad_number_is_an_error_naming_key_and_value(key, value):
    with pytest.raises(ConfigurationError) as exc_info:
        load(**{key: value})
    message = str(exc_info.value)
    assert message.startswith(f"bad value for {key}: {value!r} (expected ")


@pytest.mark.parametrize(
    "text, expected",
    [("true", True), ("True", True), ("yes", True), ("on", True), ("1", True),
     ("false", False), ("FALSE", False), ("no", False), ("off", False), ("0", False)],
)
def test_booleans_accept_the_usual_words(text, expected):
    assert load(**{"symbolsrv.concurrent_lookups": text}).concurrent_lookups is expected


@pytest.mark.parametrize("text", ["ture", "flase", "maybe", "2", "enabled"])
def test_misspelt_boolean_is_an_error_naming_key_and_value(text):
    with pytest.raises(ConfigurationError) as exc_info:
        load(**{"symbolsrv.concurrent_lookups": text})
    assert str(exc_info.value).startswith(f"bad value for symbolsrv.concurrent_lookups: {text!r}")


def test_extension_without_a_dot_is_an_error_naming_it():
    with pytest.raises(ConfigurationError) as exc_info:
        load(**{"symbolsrv.allowed_extensions": ".sym pdb"})
    message = str(exc_info.value)
    assert "symbolsrv.allowed_extensions" in message
    assert "'pdb' does not start with '.'" in message


@pytest.mark.parametrize("ini", ["development.ini", "production.ini"])
def test_shipped_ini_files_load_without_error(ini):
    raw = get_appsettings(str(REPO_ROOT / ini))
    cfg = load_settings(raw)
    assert cfg.locations
    assert all("://" in location for location in cfg.locations + cfg.try_locations)
    assert cfg.sqlalchemy_url


def test_production_ini_keeps_its_locations_in_order():
    cfg = load_settings(get_appsettings(str(REPO_ROOT / "production.ini")))
    assert [loc.split("?")[0] for loc in cfg.locations] == [
        "s3://org-symbols/v1",
        "s3://org-symbols-private/v1",
    ]
    assert cfg.try_locations == ("s3://org-symbols-try/v1?region=us-west-2",)
    assert cfg.storage_timeout_seconds == 3.0


@pytest.mark.parametrize("key, value", [
    ("symbolsrv.lookup_deadline_seconds", "inf"),
    ("symbolsrv.storage_timeout_seconds", "1e12"),
    ("symbolsrv.breaker_reset_seconds", "nan"),
    ("symbolsrv.legacy_products", "firefox try"),
])
def test_unbounded_durations_and_a_try_product_stop_start_up(key, value):
    with pytest.raises(ConfigurationError, match=key.replace(".", r"\.")):
        load_settings({**MINIMAL_INI, key: value})
