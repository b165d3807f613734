"""Alembic migrations, made from `adapters/postgres/tables.py` (a test checks that they match)."""
