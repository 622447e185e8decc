"""The cross-thread and cross-process lock every read-modify-write of an AWS file is done under."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from stsdash.errors import CredentialsWriteError

_thread_locks: dict[Path, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def lock_name(target: Path) -> str:
    """The lock file's name, next to `target` (dot-prefixed, so `ls` does not show it)."""
    return f".{target.name}.stsdash.lock"


@contextlib.contextmanager
def locked(path: Path, target: Path, timeout: float) -> Iterator[None]:
    """Exclusive across threads (a process-wide lock) and processes (flock on a file next to target).

    `path` is the name the user knows (for messages), `target` the real file behind it.
    """
    with _thread_locks_guard:
        tlock = _thread_locks.setdefault(target, threading.Lock())
    timeout_msg = (
        f"{path} is locked by another stsdash process "
        f"(waited {timeout:g} s for {target.parent / lock_name(target)})"
    )
    hint = "Try again; if no other stsdash is running, delete that lock file."
    deadline = time.monotonic() + timeout
    if not tlock.acquire(timeout=timeout):
        raise CredentialsWriteError(timeout_msg, hint=hint)
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise CredentialsWriteError(
                f"cannot create {target.parent}: {exc.strerror or exc}", hint="Check permissions."
            ) from exc
        flock = FileLock(
            target.parent / lock_name(target),
            timeout=max(0.0, deadline - time.monotonic()),
            mode=0o600,
        )
        try:
            flock.acquire()
        except Timeout as exc:
            raise CredentialsWriteError(timeout_msg, hint=hint) from exc
        except OSError as exc:
            raise CredentialsWriteError(
                f"cannot lock {path}: {exc.strerror or exc}; the file is unchanged",
                hint="Check free disk space and permissions.",
            ) from exc
        try:
            remove_orphaned_temp_files(target)
            yield
        finally:
            flock.release()
    finally:
        tlock.release()


def remove_orphaned_temp_files(target: Path) -> None:
    """atomic_write's temp files left by a writer killed mid-write. Only lock holders create them."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if pattern.fullmatch(name):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)
