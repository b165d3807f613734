"""Accounts: a role, a password hash and a credentials version per user; login attempts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.schema.tables import ADMINS, KEY

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Users stored before accounts existed become members without a password (they cannot log in
    # until an admin sets one).
    # In batch mode: SQLite adds a constraint by copying the table (PostgreSQL alters it in place).
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("role", sa.Text(), server_default="member", nullable=False))
        batch.add_column(sa.Column("password_hash", sa.Text(), nullable=True))
        batch.add_column(sa.Column("credentials_version", sa.Integer(), server_default="1", nullable=False))
        batch.create_check_constraint(op.f("users_role_check"), "role IN ('member', 'admin')")
    op.create_index("users_admins_idx", "users", ["id"], postgresql_where=ADMINS, sqlite_where=ADMINS)
    op.create_table(
        "login_attempts",
        sa.Column("account", KEY, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("login_attempts_pkey")),
    )
    op.create_index(op.f("login_attempts_window_started_at_idx"), "login_attempts", ["window_started_at"])


def downgrade() -> None:
    op.drop_table("login_attempts")
    op.drop_index("users_admins_idx", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("users_role_check"), type_="check")
        batch.drop_column("credentials_version")
        batch.drop_column("password_hash")
        batch.drop_column("role")
