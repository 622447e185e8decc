"""Who else can read the credentials file.

stsdash keeps an existing file's mode (it is the user's choice), and a new file is created 0600. But a
file other users can read, holding secret keys and session tokens, is worth a warning wherever the
user looks (`stsdash list`, the dashboard), with the fix (`stsdash fix-permissions` or `chmod 600`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from stsdash.awsfiles.atomic import resolve_target

_SECRET_KEYS = (b"aws_secret_access_key", b"aws_session_token", b"aws_security_token")


def exposed_credentials(path: Path) -> str | None:
    """A warning when `path` holds secrets and its mode lets group or others read it; else None.

    Windows keeps access in ACLs, not mode bits: nothing to say there.
    """
    if os.name == "nt":
        return None
    target = resolve_target(path)
    try:
        st = os.stat(target)
        if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o077:
            return None
        data = target.read_bytes().lower()
    except OSError:
        return None
    if not any(key in data for key in _SECRET_KEYS):
        return None
    mode = stat.S_IMODE(st.st_mode)
    who = "everyone on this machine" if mode & 0o004 else "its group"
    return (
        f"{path} is readable by {who} (mode {mode:04o}) and holds secret keys or session tokens; "
        f"run `stsdash fix-permissions` (or `chmod 600 {path}`)"
    )


def fix_permissions(path: Path) -> tuple[int, int] | None:
    """Take group and other access away from the credentials file; (old mode, new mode) or None."""
    target = resolve_target(path)
    try:
        old = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return None
    new = old & ~0o077
    if new != old:
        os.chmod(target, new)
    return old, new
