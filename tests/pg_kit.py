"""A real PostgreSQL for tests and the benchmark: initdb + pg_ctl in a temporary folder, loopback only.

PostgreSQL refuses to run as root: when the tests run as root the folder is given to the ``postgres``
user and the server runs through ``runuser``. Stopped by ``stop()`` (``pg_ctl stop -m immediate``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BIN_DIRS = [
    Path("/usr/lib/postgresql/15/bin"),
    *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True),
]
USER = "loja"
PASSWORD = "segredo-da-loja"


def pg_bin() -> Path | None:
    if sys.platform != "linux":  # Debian's server binaries (under Wine "/usr/lib/..." is a Linux path)
        return None
    for d in BIN_DIRS:
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    folder: Path
    port: int
    bin: Path
    as_user: list[str]

    @property
    def url(self) -> str:
        """URL without the password (the password goes to the credential store)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    @property
    def url_with_password(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), *args],
            check=check,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        self._ctl(
            "-l",
            str(self.folder / "log.txt"),
            "-w",
            "-t",
            "30",
            "start",
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200 -c shared_buffers=32MB",
        )

    def stop(self, *, remove: bool = False) -> None:
        self._ctl("-m", "immediate", "-w", "stop", check=False)
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres(folder: Path | None = None) -> PgServer:
    """Start a server in ``folder`` (default: a new /tmp folder the postgres user can reach)."""
    bindir = pg_bin()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL não instalado (apt-get install postgresql)")
    folder = folder or Path(tempfile.mkdtemp(prefix="pos-pg-"))
    folder.mkdir(parents=True, exist_ok=True)
    as_user: list[str] = []
    pwfile = folder / "pw"
    pwfile.write_text(PASSWORD)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(folder / "data"),
            "-U",
            USER,
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PgServer(folder, _free_port(), bindir, as_user)
    server.start()
    return server
