"""Atomic file replacement: the old file or the new one is on disk after any crash, never a mix.

This is only the primitive. Callers that read-modify-write (the credentials writer, the SSO cache, the
config's managed block) hold a cross-process lock around read + atomic_write.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from stsdash import exiting

NEW_FILE_MODE = 0o600


def resolve_target(path: Path) -> Path:
    """The real file behind `path`, so a symlinked file is written through and stays a symlink."""
    return Path(os.path.realpath(path))


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `data`: temp file in the same directory, fsync, os.replace, fsync the directory.

    An existing file keeps its permission bits, owner, group and extended attributes (as far as this
    process may set them); a new one gets `mode` (default 0600) and, when root writes into another
    user's directory, that user as owner. If anything fails, the temp file is removed and the original
    is untouched.
    """
    target = resolve_target(path)
    directory = target.parent
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        old: os.stat_result | None = target.stat()
    except FileNotFoundError:
        old = None
    keep_mode = stat.S_IMODE(old.st_mode) if old is not None else NEW_FILE_MODE if mode is None else mode
    with exiting.critical():  # `q` / Ctrl-C wait (briefly) for this instead of leaving a temp file
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                _set_mode(handle.fileno(), tmp_name, keep_mode)
                _keep_owner(handle.fileno(), old if old is not None else _new_file_owner(directory))
                if old is not None:
                    _copy_xattrs(target, handle.fileno())
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        fsync_directory(directory)


def _set_mode(fd: int, name: str, mode: int) -> None:
    # os.fchmod exists on Windows only from Python 3.13; there chmod only sets the read-only flag.
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:
        os.chmod(name, mode)


def _new_file_owner(directory: Path) -> os.stat_result | None:
    """Root writing into another user's directory (sudo keeping HOME) creates the file as that user."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        st = directory.stat()
    except OSError:
        return None
    return st if st.st_uid != 0 else None


def _keep_owner(fd: int, like: os.stat_result | None) -> None:
    if like is None or not hasattr(os, "fchown"):
        return
    if (like.st_uid, like.st_gid) == (os.geteuid(), os.getegid()):
        return
    try:
        os.fchown(fd, like.st_uid, like.st_gid)
    except PermissionError:
        with contextlib.suppress(PermissionError):
            os.fchown(fd, -1, like.st_gid)  # not root: at least the group, if we belong to it


def _copy_xattrs(source: Path, fd: int) -> None:
    """Extended attributes (ACLs, labels, user.*) of the file being replaced, where the OS has them."""
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(source)
    except OSError:
        return
    for name in names:
        with contextlib.suppress(OSError):  # e.g. security.* without the privilege: the default stays
            os.setxattr(fd, name, os.getxattr(source, name))


class ReplaceBusyError(PermissionError):
    """The replace kept failing because another program holds the file open (Windows)."""


REPLACE_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)
pause: Callable[[float], None] = time.sleep  # tests replace it


def replace(source: str | Path, target: Path) -> None:
    """os.replace, retried while it fails with PermissionError.

    On Windows a replace fails while another process has the target open without delete sharing (an
    editor, a virus scanner, the AWS CLI reading it); that passes in a moment. After the retries the
    error says so.
    """
    for delay in (*REPLACE_PAUSES, None):
        try:
            os.replace(source, target)
            return
        except PermissionError as exc:
            if delay is None:
                raise ReplaceBusyError(
                    exc.errno,
                    f"{exc.strerror or 'permission denied'} (tried {len(REPLACE_PAUSES) + 1} times; "
                    "another program may have the file open)",
                ) from exc
            pause(delay)


def fsync_directory(directory: Path) -> None:
    """Make the rename itself durable. Some filesystems refuse to fsync a directory; that is not fatal."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
