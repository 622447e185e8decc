"""Atomic file replacement: the old file or the new one is on disk after any crash, never a mix.

This is only the primitive. Callers that read-modify-write (the credentials writer, the SSO cache, the
config's managed block) hold a cross-process lock around read + atomic_write.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from stsdash import exiting

NEW_FILE_MODE = 0o600


def resolve_target(path: Path) -> Path:
    """The real file behind `path`, so a symlinked file is written through and stays a symlink."""
    return Path(os.path.realpath(path))


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace `path` with `data`: temp file in the same directory, fsync, os.replace, fsync the directory.

    An existing file keeps its permission bits; a new one gets `mode` (default 0600). If anything fails,
    the temp file is removed and the original is untouched.
    """
    target = resolve_target(path)
    directory = target.parent
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        keep_mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        keep_mode = NEW_FILE_MODE if mode is None else mode
    with exiting.critical():  # `q` / Ctrl-C wait (briefly) for this instead of leaving a temp file
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), keep_mode)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        fsync_directory(directory)


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
