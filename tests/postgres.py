"""The tests' throwaway PostgreSQL server: fakes/servers.py owns it (the benchmarks start one
too); these are the names the fixtures use. TEST_DATABASE_URL (postgresql://user@host:port)
names a server to use instead."""

from __future__ import annotations

from fakes.servers import PostgresServer as Server
from fakes.servers import start_postgres as start

__all__ = ["Server", "create_database", "drop_database", "start"]


def create_database(server: Server, name: str) -> str:
    """A new empty database on the server; its URL."""
    return server.create_database(name)


def drop_database(server: Server, name: str) -> None:
    server.drop_database(name)
