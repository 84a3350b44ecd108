"""A throwaway PostgreSQL server for the tests: the local binaries, a temporary data directory,
a free loopback port; no system-wide service, gone at the end of the session.

PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (runuser),
with a data directory that user owns. TEST_DATABASE_URL (postgresql://user@host:port) names a
server to use instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from fakes.servers import free_port

SEARCHED = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


@dataclass
class Server:
    url: str  # postgresql://user@host:port, without a database
    data: Path | None = None
    _as: tuple[str, ...] = ()
    _bin: Path | None = None

    def stop(self) -> None:
        if self.data is None or self._bin is None:
            return
        subprocess.run(
            [*self._as, str(self._bin / "pg_ctl"), "-D", str(self.data / "data"), "-m",
             "immediate", "-w", "stop"],
            capture_output=True, check=False, timeout=60,
        )  # fmt: skip
        shutil.rmtree(self.data, ignore_errors=True)


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: PG_BIN, Debian's newest, or one on PATH."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    for folder in SEARCHED:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def start() -> Server:
    """Start a server; raise RuntimeError saying why when there is none to start."""
    if os.environ.get("TEST_DATABASE_URL"):
        return Server(os.environ["TEST_DATABASE_URL"].rstrip("/"))
    folder = binaries()
    if folder is None:
        raise RuntimeError("no PostgreSQL binaries (Debian: apt-get install postgresql)")
    run_as: tuple[str, ...] = ()
    root = tempfile.mkdtemp(prefix="cso-bot-pg-")
    if os.geteuid() == 0:
        run_as = ("runuser", "-u", "postgres", "--")
        shutil.chown(root, "postgres", "postgres")
    data = Path(root) / "data"
    port = free_port()
    server = Server(f"postgresql://postgres@127.0.0.1:{port}", Path(root), run_as, folder)
    steps = [
        [str(folder / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--no-locale", "--no-sync"],
        [str(folder / "pg_ctl"), "-D", str(data), "-l", f"{root}/server.log", "-w", "-t", "60",
         "-o", f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=200", "start"],
    ]  # fmt: skip
    for step in steps:
        done = subprocess.run(
            [*run_as, *step], capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode != 0:
            log = Path(root, "server.log")
            detail = log.read_text() if log.exists() else ""
            server.stop()
            raise RuntimeError(f"{Path(step[0]).name} failed: {done.stderr}{detail}"[-2000:])
    return server


def create_database(server: Server, name: str) -> str:
    """A new empty database on the server; its URL. (A thread of its own: callable from sync
    fixtures and from inside a running event loop alike.)"""
    _admin(server, f'CREATE DATABASE "{name}"')
    return f"{server.url}/{name}"


def drop_database(server: Server, name: str) -> None:
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(server: Server, statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(f"{server.url}/postgres")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    failed: list[BaseException] = []

    def thread() -> None:
        try:
            asyncio.run(run())
        except BaseException as e:  # reported in the caller's thread
            failed.append(e)

    worker = threading.Thread(target=thread)
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
