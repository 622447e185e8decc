"""What each table cell says, kept apart from the widgets so the 1 Hz tick can diff plain tuples.

A cell is ``(text, style_name)``; the table makes segments of it only when its row is drawn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stsdash.engine import RefreshCancelled
from stsdash.errors import StsdashError
from stsdash.terminal import printable
from stsdash.timeutil import format_countdown
from stsdash.ui.columns import Column

if TYPE_CHECKING:
    from stsdash.creds import Identity
    from stsdash.profiles import Profile, SsoSession

Cell = tuple[str, str]  # (text, style name: a key of the theme style map)

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

# Declared in screen order, which is also priority order: what a user needs first stays at 80 columns.
PROFILE_COLUMNS: tuple[Column, ...] = (
    Column("name", "Profile", 1, 10, 36),
    Column("status", "Status", 2, 14, 30, flex=True),
    Column("target", "Target", 3, 12, 40),
    Column("kind", "Kind", 4, 4, 18),
    Column("region", "Region", 5, 6, 14),
    Column("account", "Account", 6, 12, 12),
    Column("role", "Role / source", 7, 12, 34, flex=True),
)

SESSION_COLUMNS: tuple[Column, ...] = (
    Column("name", "SSO session", 1, 10, 30),
    Column("expires", "Token expires", 2, 14, 16),
    Column("profiles", "Profiles served", 3, 14, 60, flex=True),
    Column("region", "Region", 4, 6, 14),
    Column("start_url", "Start URL", 5, 16, 50),
)

ACCOUNT_WIDTH = 12


@dataclass
class RowState:
    """What the dashboard remembers about a profile across reloads of the files."""

    busy: bool = False
    ok: bool | None = None
    summary: str = ""
    error: Exception | None = None
    last_refresh: datetime | None = None
    identity: Identity | None = None
    expires_override: datetime | None = None  # the expiry a refresh just reported


def role_or_source(profile: Profile) -> str:
    """One short phrase for where the profile's keys come from."""
    kind = str(profile.kind)
    role = _role_name(profile.role_arn)
    source = profile.source_profile or profile.credential_source
    if kind == "assume-role":
        return f"{role} ← {source}" if source else role
    if kind == "sso":
        session = profile.sso_session or "legacy"
        return f"{profile.sso_role_name or '?'} @ {session}"
    if kind == "web-identity":
        return f"{role} ← web identity"
    if kind == "credential-process":
        return "credential_process"
    if kind == "login":
        return f"aws login {profile.login_session or ''}".rstrip()
    if kind == "saml":
        return "SAML sign-in"
    if kind == "mfa-user":
        return "MFA " + (profile.mfa_serial or "").rsplit("/", 1)[-1]
    if kind == "static":
        return f"keys in {profile.keys_in}" if profile.keys_in else "long-term keys"
    return source or "-"


def _role_name(arn: str | None) -> str:
    if not arn:
        return "-"
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn


def natural_widths(profiles: list[Profile]) -> dict[str, int]:
    """The widest content of the columns whose width matters, from the raw values (no cells built).

    The status and role columns are flexible: they take what is left, so they are not measured.
    """
    name = target = region = kind = 0
    for profile in profiles:
        name = max(name, len(profile.name))
        target = max(target, len(profile.target or "-"))
        region = max(region, len(profile.region or "-"))
        kind = max(kind, len(profile.kind))
    return {"name": name, "target": target, "region": region, "kind": kind, "account": ACCOUNT_WIDTH,
            "status": 16, "role": 14}


def profile_cells(profile: Profile, state: RowState, now: datetime, refresh_ahead: timedelta,
                  spin: int = 0) -> dict[str, Cell]:
    """Every cell of a profile row; "expires" and "result" are folded into the shown "status"."""
    expires = expires_cell(profile, state, now, refresh_ahead)
    result = result_cell(profile, state, spin)
    return _printable({
        "name": (profile.name, "problem" if profile.problem else "name"),
        "status": status_cell(expires, result),
        "expires": expires,
        "result": result,
        "kind": (str(profile.kind), "dim"),
        "account": (profile.account_id or "-", ""),
        "role": (role_or_source(profile), ""),
        "region": (profile.region or "-", ""),
        "target": (profile.target or "-", "dim" if not profile.target else ""),
    })


def _printable(cells: dict[str, Cell]) -> dict[str, Cell]:
    """Control characters and escape sequences from files or servers shown as \\uXXXX."""
    return {key: (printable(text), style) for key, (text, style) in cells.items()}


def status_cell(expires: Cell, result: Cell) -> Cell:
    """The countdown and the last result in one cell: news first, then the countdown it affects."""
    text, style = result
    if not text:
        return expires
    if style == "busy":
        return result
    if text.startswith("✓"):
        return (f"✓ {expires[0]}", expires[1])
    if expires[0] == "problem":
        return (text if text.startswith("✗") else f"✗ {text}", "problem")
    return (f"{text} · {expires[0]}", style)


def expires_cell(profile: Profile, state: RowState, now: datetime, refresh_ahead: timedelta) -> Cell:
    if profile.problem:
        return ("problem", "problem")
    expires_at = state.expires_override or profile.expires_at
    if expires_at is None:
        return ("no keys yet" if profile.refreshable else "n/a", "dim")
    status = _status(expires_at, now, refresh_ahead)
    return (format_countdown(expires_at, now), status)


def _status(expires_at: datetime, now: datetime, refresh_ahead: timedelta) -> str:
    # Same thresholds as Profile.status; recomputed here from the override so a refresh shows at once.
    if expires_at <= now:
        return "expired"
    if expires_at - now <= refresh_ahead:
        return "expiring"
    return "fresh"


def result_cell(profile: Profile, state: RowState, spin: int = 0) -> Cell:
    if state.busy:
        return (f"{SPINNER[spin % len(SPINNER)]} refreshing", "busy")
    if state.ok is True:
        return (state.summary, "fresh")
    if state.ok is False:
        return (state.summary, "cancelled" if isinstance(state.error, RefreshCancelled) else "problem")
    if profile.problem:
        return (_first_line(profile.problem), "problem")
    if profile.warnings:
        return (f"⚠ {_first_line(profile.warnings[0])}", "expiring")
    return ("", "")


def session_cells(session: SsoSession, now: datetime, refresh_ahead: timedelta) -> dict[str, Cell]:
    if session.problem:
        expires: Cell = ("problem", "problem")
    elif session.token_expires_at is None:
        expires = ("not logged in", "expired")
    else:
        expires = (format_countdown(session.token_expires_at, now),
                   _status(session.token_expires_at, now, refresh_ahead))
    served = ", ".join(session.profiles)
    return _printable({
        "name": (session.name, "problem" if session.problem else "name"),
        "expires": expires,
        "region": (session.region or "-", ""),
        "start_url": (session.start_url or "-", "dim"),
        "profiles": (f"{len(session.profiles)}: {served}" if served else "0", ""),
    })


# AWS error codes and network failure kinds, as a person would say them on a row.
_WORDS = {
    "AccessDenied": "access denied",
    "AccessDeniedException": "access denied",
    "SsoLoginRequired": "SSO login needed",
    "UnauthorizedException": "SSO login needed",
    "ExpiredToken": "keys expired",
    "ExpiredTokenException": "keys expired",
    "InvalidClientTokenId": "keys not valid",
    "SignatureDoesNotMatch": "secret key wrong",
    "RegionDisabledException": "region disabled",
    "Throttling": "throttled, try later",
    "ThrottlingException": "throttled, try later",
    "TooManyRequestsException": "throttled, try later",
    "NetworkError": "network unreachable",
    "LockTimeout": "file busy (locked)",
    "InvalidResponse": "bad answer from AWS",
    "dns": "network unreachable (DNS)",
    "refused": "network unreachable (refused)",
    "connect-timeout": "network unreachable (timeout)",
    "read-timeout": "AWS did not answer",
    "reset": "connection dropped",
    "ssl": "TLS certificate rejected",
    "proxy": "proxy failed",
    "other": "network error",
}


def error_words(error: Exception | None) -> str:
    """A few plain words for an error: what the row says, and the title of its notification."""
    if error is None:
        return "failed"
    if isinstance(error, RefreshCancelled):
        return "cancelled"
    code = getattr(error, "code", None)
    if code:
        if code in _WORDS:
            return _WORDS[code]
        if type(error).__name__ == "MfaCodeError":
            return "MFA code rejected"
        return _split_code(code)
    # The row names the profile already: StsdashError.text is the message without its name.
    return _first_line(error.text if isinstance(error, StsdashError) else str(error))


def error_summary(error: Exception | None) -> str:
    """A short, single-line reason for the row; the details screen shows the full text."""
    if isinstance(error, RefreshCancelled):
        return "– cancelled"
    return f"✗ {error_words(error)}"


def dashboard_hint(error: Exception | None, session: str | None = None) -> str | None:
    """What to do next, in this dashboard's keys (the error's own hint names CLI commands)."""
    code = getattr(error, "code", None)
    if code in ("SsoLoginRequired", "UnauthorizedException"):
        return f"Press l to log in to {session}." if session else "Press l to log in to its SSO session."
    if type(error).__name__ == "MfaCodeError":
        return "Press r to try again with a new code."
    if code in ("dns", "refused", "connect-timeout", "NetworkError", "proxy", "other"):
        return "Check the network (VPN, proxy), then press r to try again."
    return None


def _split_code(code: str) -> str:
    """`SomeErrorCode` or `some-error` → `some error code` / `some error`."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", code).replace("-", " ").replace("_", " ")
    words = re.sub(r" (Exception|Error)$", "", words)
    return words.lower()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 profile`, `2 profiles`."""
    return f"{count} {word if count == 1 else (words or word + 's')}"
