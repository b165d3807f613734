"""Accounts: a role, a password hash and a credentials version per user; login attempts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Users stored before accounts existed become members without a password (they cannot log in
    # until an admin sets one).
    op.add_column("users", sa.Column("role", sa.Text(), server_default="member", nullable=False))
    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("credentials_version", sa.Integer(), server_default="1", nullable=False))
    op.create_check_constraint(op.f("users_role_check"), "users", "role IN ('member', 'admin')")
    op.create_index("users_admins_idx", "users", ["id"], postgresql_where=sa.text("role = 'admin'"))
    op.create_table(
        "login_attempts",
        sa.Column("account", sa.Text(collation="C"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("login_attempts_pkey")),
    )
    op.create_index(op.f("login_attempts_window_started_at_idx"), "login_attempts", ["window_started_at"])


def downgrade() -> None:
    op.drop_table("login_attempts")
    op.drop_index("users_admins_idx", table_name="users")
    op.drop_constraint(op.f("users_role_check"), "users", type_="check")
    op.drop_column("users", "credentials_version")
    op.drop_column("users", "password_hash")
    op.drop_column("users", "role")
