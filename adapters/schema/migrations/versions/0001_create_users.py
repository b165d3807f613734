"""Create the users table, its unique keys, the keyset index and the trigram index for `q`
(on SQLite, a plain index: `q` scans there).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.schema.tables import KEY

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Trusted since PostgreSQL 13: a database owner may create it. Kept on downgrade: others may use it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("username_key", KEY, nullable=False),
        sa.Column("email_key", KEY, nullable=False),
        sa.Column("search_text", KEY, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("users_version_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("users_pkey")),
        sa.UniqueConstraint("email_key", name=op.f("users_email_key_key")),
        sa.UniqueConstraint("username_key", name=op.f("users_username_key_key")),
    )
    op.create_index(op.f("users_created_at_id_idx"), "users", ["created_at", "id"])
    op.create_index(
        op.f("users_search_text_idx"),
        "users",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_table("users")  # its indexes and constraints go with it
