"""An index in report order, so /missingsymbols.csv streams rows without sorting a whole day
first (1M rows: the first byte waited 3.4 s on SQLite's temporary sort).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_missing_symbols_report",
        "missing_symbols",
        ["day", "debug_file", "debug_id", "code_file", "code_id"],
    )


def downgrade():
    op.drop_index("ix_missing_symbols_report", table_name="missing_symbols")
