"""Writing over a file other programs use: check it is still the one read, and whose it is.

Under stsdash's lock other stsdash processes wait, but other tools take no lock. So:

- just before the replace, the file must still be exactly the one read (inode, size, mtime, bytes);
  if not, the caller reads it again and redoes its edit, a bounded number of times;
- a file that, read again after it changed, is a strict prefix of what was read a moment before is
  another program's rewrite in place (truncate, then write) caught half-way: wait for it, and if it
  stays so, refuse;
- a file that belongs to another user (root with someone else's HOME) is refused unless
  `STSDASH_WRITE_OTHER_USERS_FILES=1`; when allowed, its owner, group and extended attributes are kept
  (atomic_write does that for every replace);
- a file with more than one hard link is refused: an atomic replace gives this name a new inode and the
  other names would keep the old keys. A symbolic link is written through instead.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path

from stsdash.awsfiles import snapshot
from stsdash.awsfiles.atomic import atomic_write
from stsdash.errors import CredentialsWriteError, WriteRefused

ATTEMPTS = 3  # read-edit-replace rounds when the file keeps changing under us
PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)  # seconds to wait for a file caught half-rewritten
ALLOW_OTHER_OWNER = "STSDASH_WRITE_OTHER_USERS_FILES"

pause: Callable[[float], None] = time.sleep  # tests replace it to act while the writer waits


def read_settled(
    path: Path, target: Path, previous: bytes | None = None, known: snapshot.Snapshot | None = None
) -> snapshot.Snapshot:
    """Read `target`, waiting out another program's rewrite in place; raise if it never settles.

    `previous` is what this write read a moment ago (before the file changed under it): a read that is
    a strict prefix of it is a rewrite caught half-way. Without one, a file modified within the last
    second that does not end with a line ending gets one short wait to see whether it grows.
    `known` is an earlier snapshot: when the bytes are the same, its parse is reused (parsing is most
    of the time on a large file).
    """
    data, st = snapshot.read_raw(path, target)
    if previous is None and st is not None and _maybe_half_written(data, st):
        pause(PAUSES[0])
        data, st = snapshot.read_raw(path, target)
    for delay in PAUSES:
        if previous is None or len(data) >= len(previous) or not previous.startswith(data):
            return _snapshot(path, target, data, st, known)
        pause(delay)
        data, st = snapshot.read_raw(path, target)
    if previous is None or len(data) >= len(previous) or not previous.startswith(data):
        return _snapshot(path, target, data, st, known)
    raise CredentialsWriteError(
        f"{path} shrank to its first {len(data)} bytes of the {len(previous)} it held a moment ago; "
        "another program seems to be rewriting it in place. Nothing was written",
        hint="Try again when the other program has finished.",
    )


def _snapshot(
    path: Path, target: Path, data: bytes, st: os.stat_result | None, known: snapshot.Snapshot | None
) -> snapshot.Snapshot:
    if known is not None and known.target == target and known.data == data:
        return dataclasses.replace(known, st=st)
    return snapshot.from_bytes(path, target, data, st)


def _maybe_half_written(data: bytes, st: os.stat_result) -> bool:
    fresh = time.time_ns() - st.st_mtime_ns < 1_000_000_000
    return fresh and bool(data) and not data.endswith((b"\n", b"\r"))


def check_replaceable(path: Path, section: str, st: os.stat_result | None) -> None:
    """Refuse another user's file (unless allowed) and a hard-linked one, before any edit."""
    if st is None:
        return
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid is not None and st.st_uid != euid and os.environ.get(ALLOW_OTHER_OWNER) != "1":
        raise WriteRefused(
            path,
            section,
            f"the file belongs to another user (uid {st.st_uid}) and stsdash runs as uid {euid}",
            hint="Run stsdash as that user (with sudo: `sudo -u USER stsdash ...`). To write it anyway, "
            f"keeping its owner, group and extended attributes, set {ALLOW_OTHER_OWNER}=1.",
        )
    if st.st_nlink > 1:
        raise WriteRefused(
            path,
            section,
            f"the file has {st.st_nlink} hard links; replacing it would leave the other names with the old "
            "contents",
            hint="Use a symbolic link instead (stsdash writes through symlinks) or remove the other links.",
        )


def replace_if_unchanged(snap: snapshot.Snapshot, data: bytes) -> bool:
    """Atomically replace `snap.target` with `data` if it is still what was read; else False."""
    if not snapshot.unchanged(snap):
        return False
    atomic_write(snap.target, data)
    return True


def kept_changing(path: Path) -> CredentialsWriteError:
    return CredentialsWriteError(
        f"{path} changed {ATTEMPTS} times while stsdash was writing it (another program is writing it "
        "without a lock); nothing was written",
        hint="Try again when the other program has finished.",
    )
