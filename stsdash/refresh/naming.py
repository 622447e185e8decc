"""The RoleSessionName stsdash sends: `stsdash-<local user>`, sanitized to STS's rules."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping

_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]", re.ASCII)


def default_session_name(env: Mapping[str, str] | None = None) -> str:
    """`stsdash-<local user>`, so CloudTrail shows who assumed the role; sanitized to STS's rules."""
    env = os.environ if env is None else env
    user = env.get("USER") or env.get("USERNAME") or env.get("LOGNAME")
    if not user:
        try:
            user = getpass.getuser()
        except Exception:  # no passwd entry (containers)
            user = ""
    return sanitize_session_name(f"stsdash-{user}" if user else "stsdash")


def sanitize_session_name(name: str) -> str:
    cleaned = _SESSION_NAME_BAD.sub("-", name)[:64]
    return cleaned if len(cleaned) >= 2 else (cleaned + "--")[:2]
