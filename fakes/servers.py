"""Throwaway local servers for the tests and benchmarks: redis-server, PostgreSQL, and nginx in
front of webhook workers with the site of deploy/ (its locations and headers, on loopback ports).

Each runs from the Debian binary in a temporary directory on a free loopback port, with no
system-wide service, and is stopped by stop(). A missing binary raises FileNotFoundError
(PostgreSQL: RuntimeError saying why).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX_SITE = ROOT / "deploy" / "nginx" / "cso-bot.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (Debian: apt-get install {package})")
    return found


def _wait_until(ready: object, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 10
    while not ready():  # type: ignore[operator]
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')}")
        time.sleep(0.05)


def _answers(port: int, probe: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            if probe:
                conn.sendall(probe)
                return conn.recv(64).startswith(expect)
            return True
    except OSError:
        return False


class _Process:
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RedisServer(_Process):
    def __init__(self, directory: Path) -> None:
        binary = _binary("redis-server", "redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = directory / "redis.log"
        self.process = subprocess.Popen(
            [
                binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory),
                "--save", "", "--appendonly", "no", "--logfile", str(self.log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait_until(
            lambda: _answers(self.port, b"PING\r\n", b"+PONG"), self.process, self.log, "redis"
        )

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(b"FLUSHALL\r\n")
            conn.recv(16)


def render_site(site: str, workers: list[int], port: int, cert: Path, key: Path) -> str:
    """deploy/'s nginx site on loopback: its upstream lists `workers`, its https server listens
    on 127.0.0.1:port with a test certificate, the port-80 redirect is left out."""
    servers = "".join(f"    server 127.0.0.1:{w} max_fails=2 fail_timeout=10s;\n" for w in workers)
    site = re.sub(r"(upstream cso_bot_workers \{\n)(?:.*\n)*?(    keepalive)", rf"\1{servers}\2",
                  site)  # fmt: skip
    # The first server block is the http → https redirect: not needed on loopback.
    first = site.index("server {")
    second = site.index("server {", first + 1)
    site = site[:first] + site[second:]
    site = re.sub(r"listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;", site)
    site = re.sub(r"\n\s*listen \[::\]:443[^\n]*", "", site)
    site = re.sub(r"ssl_certificate [^;]+;", f"ssl_certificate {cert};", site)
    return re.sub(r"ssl_certificate_key [^;]+;", f"ssl_certificate_key {key};", site)


class NginxProxy(_Process):
    """nginx with deploy/nginx/cso-bot.conf in front of the given worker ports; `url` is https
    with a self-signed certificate (clients skip verification)."""

    def __init__(self, directory: Path, workers: list[int]) -> None:
        binary = _binary("nginx", "nginx")
        openssl = _binary("openssl", "openssl")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        cert, key = directory / "cert.pem", directory / "key.pem"
        subprocess.run(
            [
                openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        site = directory / "site.conf"
        site.write_text(
            render_site(NGINX_SITE.read_text(), workers, self.port, cert, key), encoding="utf-8"
        )
        self.log = directory / "error.log"
        temp = "".join(
            f"    {kind}_temp_path {directory / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = directory / "nginx.conf"
        conf.write_text(
            f"daemon off;\npid {directory / 'nginx.pid'};\nerror_log {self.log};\n"
            f"worker_processes 1;\nevents {{}}\nhttp {{\n    access_log off;\n{temp}"
            f"    include {site};\n}}\n",
            encoding="utf-8",
        )
        check = subprocess.run(
            [binary, "-t", "-p", str(directory), "-c", str(conf)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx refuses the site: {check.stderr}")
        self.process = subprocess.Popen(
            [binary, "-p", str(directory), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        _wait_until(lambda: _answers(self.port, b"", b""), self.process, self.log, "nginx")


# --- PostgreSQL ----------------------------------------------------------------------------------

POSTGRES_SEARCHED = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
# A throwaway server keeps nothing: no flush to disk at all (the tests' default).
POSTGRES_THROWAWAY = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
# Durable files, but a commit does not wait for its WAL to reach the disk: what SQLite's WAL mode
# with synchronous=NORMAL (db/database.py) promises, for comparing the two (the benchmarks).
POSTGRES_LIKE_SQLITE = ("synchronous_commit=off",)


@dataclass
class PostgresServer:
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

    def create_database(self, name: str) -> str:
        """A new empty database on the server; its URL. (A thread of its own: callable from
        sync code and from inside a running event loop alike.)"""
        self._admin(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        import asyncpg  # only where a PostgreSQL server is used

        async def run() -> None:
            conn = await asyncpg.connect(f"{self.url}/postgres")
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


def postgres_binaries() -> Path | None:
    """The folder of initdb and pg_ctl: PG_BIN, Debian's newest, or one on PATH."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    for folder in POSTGRES_SEARCHED:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def start_postgres(settings: tuple[str, ...] = POSTGRES_THROWAWAY) -> PostgresServer:
    """Start a server with `settings` (name=value); raise RuntimeError saying why when there is
    none to start. TEST_DATABASE_URL (postgresql://user@host:port) names one to use instead.

    PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (runuser),
    with a data directory that user owns."""
    if os.environ.get("TEST_DATABASE_URL"):
        return PostgresServer(os.environ["TEST_DATABASE_URL"].rstrip("/"))
    folder = postgres_binaries()
    if folder is None:
        raise RuntimeError("no PostgreSQL binaries (Debian: apt-get install postgresql)")
    run_as: tuple[str, ...] = ()
    root = tempfile.mkdtemp(prefix="cso-bot-pg-")
    if os.geteuid() == 0:
        run_as = ("runuser", "-u", "postgres", "--")
        shutil.chown(root, "postgres", "postgres")
    data = Path(root) / "data"
    port = free_port()
    server = PostgresServer(f"postgresql://postgres@127.0.0.1:{port}", Path(root), run_as, folder)
    options = " ".join(f"-c {setting}" for setting in (*settings, "max_connections=200"))
    steps = [
        [str(folder / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--no-locale", "--no-sync"],
        [str(folder / "pg_ctl"), "-D", str(data), "-l", f"{root}/server.log", "-w", "-t", "60",
         "-o", f"-p {port} -h 127.0.0.1 -k {root} {options}", "start"],
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
