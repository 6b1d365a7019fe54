"""An index on code_ids.code_id alone: debuginfod requests name a binary by its ELF build id
with no file name (`/buildid/<id>/debuginfo`), so the (code_file_key, code_id) index can't serve
that lookup.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_code_ids_code_id", "code_ids", ["code_id"])


def downgrade():
    op.drop_index("ix_code_ids_code_id", table_name="code_ids")
