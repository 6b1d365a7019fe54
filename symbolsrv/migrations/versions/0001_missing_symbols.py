"""The missing_symbols table: one row per distinct miss per UTC day.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "missing_symbols",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("debug_file", sa.String(200), nullable=False),
        sa.Column("debug_id", sa.String(64), nullable=False),
        sa.Column("symbol_file", sa.String(200), nullable=False),
        sa.Column("code_file", sa.String(200), nullable=False, server_default=""),
        sa.Column("code_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("day", "key_hash", name="uq_missing_symbols_day_key"),
    )


def downgrade():
    op.drop_table("missing_symbols")
