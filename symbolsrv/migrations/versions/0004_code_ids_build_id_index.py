"""Build-id lookups: debuginfod requests name a binary by its ELF build id alone
(`/buildid/<id>/debuginfo`), so code_ids gets an index on code_id and the MODULE line's
operating system (only ELF rows answer a build id). Existing rows do not know their system:
their version is cleared, so the next `symbolsrv index` reads them again.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("code_ids") as batch:
        batch.add_column(sa.Column("os", sa.String(32), nullable=False, server_default=""))
    op.create_index("ix_code_ids_code_id", "code_ids", ["code_id"])
    op.execute("UPDATE code_ids SET version = ''")


def downgrade():
    op.drop_index("ix_code_ids_code_id", table_name="code_ids")
    with op.batch_alter_table("code_ids") as batch:
        batch.drop_column("os")
