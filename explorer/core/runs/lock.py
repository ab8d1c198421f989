"""An exclusive lock on a folder (a run, or ``train --out``): ``flock`` on ``<folder>/lock``
with the holder's pid written in it.

The kernel drops the lock when its process dies (kill -9 included), so a stale lock file
never blocks anyone; only a live holder does. A second lock of the same folder fails at
once, in this process (another open file) or another, with :class:`RunLockedError` naming
the folder and the holder's pid.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..errors import ExplorerError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None
    import msvcrt

LOCK_NAME = "lock"
PROBE_GRACE_S = 0.2  # is_locked() holds a free lock for microseconds; a writer retries this long


class RunLockedError(ExplorerError):
    """Another writer (``pid``) holds the run or output folder."""

    def __init__(self, what: str, path: Path, pid: int | None):
        self.path, self.pid = path, pid
        holder = f"process {pid}" if pid else "another process"
        super().__init__(f"{what} is being written by {holder} (lock {path / LOCK_NAME}); "
                         "wait for it to finish, stop it, or choose another")


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except OSError:
        return False


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


class FolderLock:
    """Hold ``<folder>/lock`` until :meth:`release` (or the process ends)."""

    def __init__(self, folder: str | Path, what: str | None = None):
        self.folder = Path(folder)
        self.what = what or str(self.folder)
        self._fd: int | None = None

    def acquire(self) -> "FolderLock":
        path = self.folder / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + PROBE_GRACE_S
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                os.close(fd)
                raise RunLockedError(self.what, self.folder, _read_pid(path))
            time.sleep(0.01)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)  # no pid left behind once we are done
            except OSError:
                pass
            os.close(fd)  # closing the descriptor drops the flock

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()


def is_locked(folder: str | Path) -> bool:
    """True while a live process holds ``folder``'s lock (probed without blocking, then let go)."""
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY if fcntl is not None else os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        if _try_lock(fd):
            return False  # we got it, so nobody holds it; closing lets it go
        return True
    finally:
        os.close(fd)


def holder_pid(folder: str | Path) -> int | None:
    return _read_pid(Path(folder) / LOCK_NAME)
