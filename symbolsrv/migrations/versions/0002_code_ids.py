"""The code_ids table: the code-id index (`symbolsrv index`), one row per indexed .sym object.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "code_ids",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("location", sa.String(1024), nullable=False),
        sa.Column("code_file_key", sa.String(200), nullable=False, server_default=""),
        sa.Column("code_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("code_file", sa.String(200), nullable=False, server_default=""),
        sa.Column("debug_file", sa.String(200), nullable=False),
        sa.Column("debug_id", sa.String(64), nullable=False),
        sa.Column("symbol_file", sa.String(200), nullable=False),
        sa.Column("version", sa.String(200), nullable=False, server_default=""),
        sa.Column("indexed_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("source_hash", name="uq_code_ids_source"),
    )
    op.create_index("ix_code_ids_code", "code_ids", ["code_file_key", "code_id"])
    op.create_index("ix_code_ids_location", "code_ids", ["location"])


def downgrade():
    op.drop_index("ix_code_ids_location", table_name="code_ids")
    op.drop_index("ix_code_ids_code", table_name="code_ids")
    op.drop_table("code_ids")
