"""A throwaway PostgreSQL server from the distribution's binaries (Debian's ``postgresql``
package): initdb into a temporary folder, started on a free port on 127.0.0.1, stopped at
the end of the session. Tests that need it are skipped, with the reason shown, only when the
server binaries are absent (CI installs them)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..running_cluster import free_port

SKIP_REASON = "PostgreSQL server binaries not found (apt-get install postgresql)"
START_TIMEOUT_S = 60


def _server_bin() -> Path | None:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all(os.access(Path(folder) / name, os.X_OK) for name in ("initdb", "pg_ctl")):
            return Path(folder)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None



class PostgresServer:
    def __init__(self, bin_dir: Path, folder: Path) -> None:
        self.bin_dir = bin_dir
        self.data_dir = folder / "pgdata"
        self.log_file = folder / "postgres.log"
        self.port = free_port()
        # postgres refuses to run as root: run it as the postgres user when we are root
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._databases = 0

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True,
                       timeout=START_TIMEOUT_S)

    def start(self) -> None:
        folder = self.data_dir.parent
        if self.as_user:
            shutil.chown(folder, "postgres")
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-A", "trust",
                  "-U", "postgres", "--no-sync", "-E", "UTF8")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                   f"-c unix_socket_directories={folder} -c fsync=off")
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l",
                  str(self.log_file), "-o", options, "-w", "-t", str(START_TIMEOUT_S),
                  "start")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast",
                      "-w", "stop")

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def new_database(self) -> str:
        """A fresh, empty database; its DSN."""
        import psycopg

        self._databases += 1
        name = f"history_{self._databases}"
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.dsn(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _server_bin()
    if bin_dir is None:
        if os.environ.get("VENUE_REQUIRE_POSTGRES") == "1":  # CI installs them
            pytest.fail(f"{SKIP_REASON}, and VENUE_REQUIRE_POSTGRES=1")
        pytest.skip(SKIP_REASON)
    # not under pytest's tmp folder: that one is private to us, and the server may run as
    # the postgres user
    folder = Path(tempfile.mkdtemp(prefix="venue-postgres-"))
    server = PostgresServer(bin_dir, folder)
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
