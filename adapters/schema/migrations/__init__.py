"""Alembic migrations, made from `adapters/schema/tables.py` (a test checks that they match)."""
