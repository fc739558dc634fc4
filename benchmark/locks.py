"""One writer per results folder: a lock file naming the run that holds it.

``run`` takes ``<out>/.astrobench.lock`` (created atomically with ``O_EXCL``, holding
the owner's pid, host and start time) before it writes anything into the folder, and
removes it when it ends, however it ends.  A second ``run`` on the same folder stops
with one line naming the owner.  A lock left by a process that no longer exists on
this host (killed with ``kill -9``, a crashed machine) is taken over; a lock from
another host is never second-guessed: the message says how to remove it by hand.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from .errors import AstrobenchError

__all__ = ["LOCK", "FolderLock", "ResultsInUseError", "check_not_in_use"]

#: The lock file's name inside a results folder.
LOCK = ".astrobench.lock"


class ResultsInUseError(AstrobenchError, RuntimeError):
    """Another run is writing into the same results folder."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _owner(path: Path) -> dict | None:
    """The lock's owner, or ``None`` when the file is gone or unreadable."""
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) and "pid" in owner else None


class FolderLock:
    """The write lock of a results folder (a context manager).

    Parameters
    ----------
    folder : path
        The results folder (it must exist).
    """

    def __init__(self, folder):
        self.path = Path(folder) / LOCK
        self.info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        self.held = False

    def _stale(self, owner: dict | None) -> bool:
        if owner is None:  # half-written or damaged: its writer died while writing it
            return True
        return owner.get("host") == self.info["host"] and not _alive(int(owner["pid"]))

    def acquire(self) -> FolderLock:
        """Take the lock.

        Raises
        ------
        ResultsInUseError
            When a live run (or a run on another host) holds it.
        """
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = _owner(self.path)
                if not self._stale(owner):
                    self._refuse(owner)
                self.path.unlink(missing_ok=True)  # a dead run's lock: take it over
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump(self.info, fh)
            self.held = True
            return self
        self._refuse(_owner(self.path))
        return self  # not reached

    def _refuse(self, owner: dict | None) -> None:
        who = (
            f"run pid {owner['pid']} on host {owner.get('host', '?')} (since "
            f"{owner.get('started', '?')})"
            if owner
            else "another run"
        )
        msg = (
            f"{self.path.parent} is being written by {who}; wait for it to finish, or "
            f"choose another --out (if that run is gone, delete {self.path})"
        )
        raise ResultsInUseError(msg)

    def release(self) -> None:
        """Remove the lock if this process still holds it."""
        if self.held and _owner(self.path) == self.info:
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def check_not_in_use(folder) -> None:
    """Raise :class:`ResultsInUseError` when another live run holds ``folder``'s lock (a
    report rebuilt meanwhile would read half-written results)."""
    lock = FolderLock(folder)
    owner = _owner(lock.path)
    if owner is None or owner.get("pid") == os.getpid() or lock._stale(owner):
        return
    lock._refuse(owner)
