"""Alembic migrations of the project file, run from code by ``engine.store.migrate``."""
