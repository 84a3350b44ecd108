"""Alembic's migration environment for the schema, run by db/migrate.py when the database opens."""
