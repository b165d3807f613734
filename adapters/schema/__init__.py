"""The schema every SQL store shares: SQLAlchemy Core tables and the Alembic migrations made from them."""
