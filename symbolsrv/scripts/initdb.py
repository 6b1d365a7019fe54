"""symbolsrv-initdb <config.ini>: create the miss-log tables (the server also does at start)."""

from __future__ import annotations

import argparse
import sys

from pyramid.paster import get_appsettings, setup_logging

from symbolsrv import db
from symbolsrv.errors import SymbolsrvError
from symbolsrv.location_sections import read_location_sections
from symbolsrv.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="symbolsrv-initdb", description=__doc__)
    parser.add_argument("config_uri", help="INI file, e.g. production.ini")
    args = parser.parse_args(argv)
    try:
        setup_logging(args.config_uri)
        cfg = load_settings(get_appsettings(args.config_uri),
                            read_location_sections(args.config_uri))
        engine = db.make_engine(cfg)
        db.create_tables(engine)
    except SymbolsrvError as exc:
        print(f"symbolsrv: error: {exc}", file=sys.stderr)
        return 1
    print(f"symbolsrv: tables ready in {engine.url.render_as_string(hide_password=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
