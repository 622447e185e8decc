"""The per-user runtime directory the broker's socket, locks and status files live in.

platformdirs gives $XDG_RUNTIME_DIR/stsdash on Linux (already private to the user), and a shared
temporary directory when that variable is unset. Either way the directory must be owned by us and
closed to everyone else: a socket or lock another user could plant there would be a way in.
"""

from __future__ import annotations

import hashlib
import os
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path

from stsdash.errors import StsdashError

SOCKET_NAME = "prompt.sock"


def runtime_dir(env: Mapping[str, str] | None = None, *, create: bool = True) -> Path:
    """`<user runtime dir>/stsdash`, created 0700; refused if another user owns it or can enter it."""
    import platformdirs

    env = os.environ if env is None else env
    if env.get("XDG_RUNTIME_DIR"):
        path = Path(env["XDG_RUNTIME_DIR"]) / "stsdash"
    else:
        with warnings.catch_warnings():  # platformdirs warns when it falls back to /tmp; checked below
            warnings.simplefilter("ignore")
            path = Path(platformdirs.user_runtime_dir("stsdash"))
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        check_private(path)
    return path


def check_private(path: Path) -> None:
    """Raise unless `path` is a directory owned by this user with no group/other access."""
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise StsdashError(
            f"{path}: not a directory owned by you; the MFA prompt socket and locks are not safe there",
            hint="Remove it, or set XDG_RUNTIME_DIR to a private directory.",
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o700)


def socket_path(env: Mapping[str, str] | None = None) -> Path:
    return runtime_dir(env) / SOCKET_NAME


def servers_dir(env: Mapping[str, str] | None = None) -> Path:
    path = runtime_dir(env) / "servers"
    path.mkdir(exist_ok=True, mode=0o700)
    return path


def device_lock_path(serial: str, env: Mapping[str, str] | None = None) -> Path:
    """A lock file per MFA device; the name is a hash, so a serial never becomes a path."""
    path = runtime_dir(env) / "locks"
    path.mkdir(exist_ok=True, mode=0o700)
    digest = hashlib.sha256(serial.encode()).hexdigest()[:32]
    return path / f"mfa-{digest}.lock"
