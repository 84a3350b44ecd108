"""Alembic's entry point: migrate over the connection db/migrate.py passes in (no alembic.ini)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
# db/migrate.py has begun the transaction (and taken the lock) already: this joins it.
with context.begin_transaction():
    context.run_migrations()
