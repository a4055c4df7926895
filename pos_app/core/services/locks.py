"""Who is working on a fiscal document right now, across threads and processes of one terminal.

Several processes may open the same data folder (the cashier window and a ``pos-app sync`` run by
a technician). A document being sent belongs to the process that marked it; the others must leave
it alone while that process lives, and take it over at once when it died (power cut, kill -9).

Each process holds an exclusive OS lock on ``locks/<token>.lock`` for its whole life and writes
its token in ``fiscal_documents.owner``. The operating system releases the lock when the process
dies, whatever the cause, so "is the owner alive?" is answered by trying to take its lock.
The same mechanism gives one replay pass at a time per data folder (``locks/replay.lock``).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import uuid
from pathlib import Path
from typing import IO

if sys.platform == "win32":  # pragma: no cover - exercised on Windows builds
    import msvcrt

    def _try_lock(f: IO[bytes]) -> bool:
        try:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(f: IO[bytes]) -> None:
        with contextlib.suppress(OSError):
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(f: IO[bytes]) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(f: IO[bytes]) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class FileLock:
    """A non-blocking exclusive lock on a file, released on ``release()`` or process death."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f: IO[bytes] | None = None

    def acquire(self) -> bool:
        if self._f is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+b")  # noqa: SIM115 - kept open while the lock is held
        if not _try_lock(f):
            f.close()
            return False
        self._f = f
        return True

    def release(self) -> None:
        f, self._f = self._f, None
        if f is not None:
            _unlock(f)
            f.close()

    @property
    def held(self) -> bool:
        return self._f is not None


class ProcessLease:
    """This process's identity in a data folder, and the liveness test of other owners."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "locks"
        self.token = uuid.uuid4().hex[:12]
        self._lock = FileLock(self.folder / f"{self.token}.lock")
        self._guard = threading.Lock()

    def claim(self) -> str:
        """The token to write in ``owner`` (takes the process lock the first time)."""
        with self._guard:
            if not self._lock.held and not self._lock.acquire():  # pragma: no cover - fresh uuid
                raise RuntimeError("não foi possível criar o arquivo de trava do processo")
        return self.token

    def alive(self, owner: str | None) -> bool:
        """True when ``owner`` is this process or another process that still runs."""
        if not owner:
            return False
        if owner == self.token:
            return True
        path = self.folder / f"{owner}.lock"
        if not path.exists():
            return False
        probe = FileLock(path)
        if probe.acquire():  # nobody holds it: that process is gone
            probe.release()
            with contextlib.suppress(OSError):
                path.unlink()
            return False
        return True

    def release(self) -> None:
        with self._guard:
            held = self._lock.held
            self._lock.release()
        if held:
            with contextlib.suppress(OSError):
                self._lock.path.unlink()


_leases: dict[str, ProcessLease] = {}
_leases_guard = threading.Lock()


def lease_for(data_dir: Path) -> ProcessLease:
    """The lease of this process for ``data_dir`` (one per folder per process)."""
    key = str(data_dir.resolve())
    with _leases_guard:
        lease = _leases.get(key)
        if lease is None:
            lease = _leases[key] = ProcessLease(data_dir)
        return lease
