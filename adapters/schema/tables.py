"""The schema, as SQLAlchemy Core tables: the one source the migrations are made from and checked
against (tests/integration). The runtime queries are hand-written SQL in `repository.py`."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    text,
)

metadata = MetaData(
    naming_convention={
        "pk": "%(table_name)s_pkey",
        "uq": "%(table_name)s_%(column_0_name)s_key",
        "ck": "%(table_name)s_%(constraint_name)s_check",
        "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    }
)

# Keys are compared byte for byte ("C"): in UTF-8 that is code-point order, the order Python sorts in.
# SQLite's default collation, BINARY, is that already (and it knows no "C").
KEY = Text(collation="C").with_variant(Text(), "sqlite")
ADMINS = text("role = 'admin'")

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("username", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("first_name", Text),
    Column("last_name", Text),
    # Derived by the domain (`Profile`), never computed by the database: see `domain.model.canonical`.
    Column("username_key", KEY, nullable=False, unique=True),
    Column("email_key", KEY, nullable=False, unique=True),
    Column("search_text", KEY, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("role", Text, nullable=False, server_default="member"),
    Column("password_hash", Text),  # a PHC string; NULL: the user cannot log in
    Column("credentials_version", Integer, nullable=False, server_default="1"),
    CheckConstraint("version >= 1", name="version"),
    CheckConstraint("role IN ('member', 'admin')", name="role"),
    # The keyset order of `sort=created_at` (both directions). The unique keys above serve the others.
    Index(None, "created_at", "id"),
    # `q`: a substring of any field's key, found through trigrams.
    Index(None, "search_text", postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"}),
    # The admins (few): "is there one", "is there another".
    Index("users_admins_idx", "id", postgresql_where=ADMINS, sqlite_where=ADMINS),
)

# Failed logins per account (a user id, or `login:<key>` for names no user holds), counted in a
# window that begins at the first attempt: the brute-force limit, shared by every process.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("account", KEY, primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("window_started_at", DateTime(timezone=True), nullable=False, index=True),
)

# Idempotency keys per owner (`user:<id>`, `operator`, `anonymous`): held by a request's token while
# its write runs (`answer` NULL, `expires_at` the end of the hold), then the write's answer, stored in
# the write's own transaction and given again until `expires_at` (24 hours).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("owner", KEY, primary_key=True),
    Column("key", KEY, primary_key=True),
    Column("fingerprint", Text, nullable=False),  # a keyed digest of the request, never the request
    Column("token", Uuid, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("answer", LargeBinary),
)
