"""Names: the RoleSessionName stsdash sends, and errors that name the profile they are about."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping

from stsdash.errors import ProviderError, StsdashError

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


def sts_message(exc: ProviderError) -> str:
    """The STS message of `exc` without the leading `profile NAME:`."""
    prefix = f"profile {exc.profile}: "
    return exc.message[len(prefix) :] if exc.profile and exc.message.startswith(prefix) else exc.message


def named(exc: StsdashError, profile: str) -> StsdashError:
    """The same error (same class), its message naming `profile`; a source's error says `via` which."""
    marker = f"profile {profile}:"
    at = exc.message.find(marker)
    if at == 0:
        return exc
    if at > 0:
        # The innermost error already names this profile (e.g. its own MFA prompt failed while a
        # source was being refreshed): drop the detour rather than name the profile twice.
        message = exc.message[at + len(marker):].lstrip()
    else:
        message = f"via {exc.message}" if exc.message.startswith("profile ") else exc.message
    if isinstance(exc, ProviderError):
        copy: StsdashError = type(exc).__new__(type(exc))
        ProviderError.__init__(
            copy, message, profile=profile, code=exc.code, hint=exc.hint, retryable=exc.retryable  # type: ignore[arg-type]
        )
    else:
        try:
            copy = type(exc)(f"profile {profile}: {message}", hint=exc.hint)
        except TypeError:  # a subclass with its own constructor (WriteRefused, FileFormatError)
            copy = StsdashError(f"profile {profile}: {message}", hint=exc.hint)
            copy.exit_code = exc.exit_code
    copy.__cause__ = exc
    return copy
