"""Alembic revisions of the schema, oldest first (r0011 is where the numbered SQL files ended)."""
