"""Reading a small file that a setting points at, without blocking or running out of memory.

A FIFO (`STSDASH_CONFIG` or `web_identity_token_file` pointing at a named pipe) blocks a plain read
forever, and a device such as /dev/zero never ends. The file is opened non-blocking and checked to be
a regular file of sane size before anything is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def read_regular(path: Path | str, limit: int) -> bytes:
    """The bytes of regular file `path`; OSError (IsADirectoryError for a directory) otherwise."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a pipe or device?); point it at a file")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes")
        return data
    finally:
        os.close(fd)
