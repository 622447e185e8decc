"""What each table cell says, kept apart from the widgets so the 1 Hz tick can diff plain tuples.

A cell is ``(text, style_name)``; the table turns it into a Rich ``Text`` only when it changed, so an
idle dashboard with thousands of rows does almost no rendering work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stsdash.engine import RefreshCancelled
from stsdash.errors import StsdashError
from stsdash.timeutil import format_countdown

if TYPE_CHECKING:
    from stsdash.creds import Identity
    from stsdash.profiles import Profile, SsoSession

Cell = tuple[str, str]  # (text, style name: a key of the theme style map)

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

PROFILE_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    # key, label, fixed width (None = fit content)
    ("name", "Profile", None),
    ("expires", "Expires", 16),
    ("result", "Last result", 22),
    ("kind", "Kind", None),
    ("account", "Account", None),
    ("role", "Role / source", None),
    ("region", "Region", None),
    ("target", "Target", None),
)

SESSION_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "SSO session", None),
    ("expires", "Token expires", 16),
    ("region", "Region", None),
    ("start_url", "Start URL", None),
    ("profiles", "Profiles served", None),
)


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
    notes: list[str] = field(default_factory=list)


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


def profile_cells(profile: Profile, state: RowState, now: datetime, refresh_ahead: timedelta,
                  spin: int = 0) -> dict[str, Cell]:
    """Every cell of a profile row."""
    return {
        "name": (profile.name, "problem" if profile.problem else "name"),
        "expires": expires_cell(profile, state, now, refresh_ahead),
        "result": result_cell(profile, state, spin),
        "kind": (str(profile.kind), "dim"),
        "account": (profile.account_id or "-", ""),
        "role": (role_or_source(profile), ""),
        "region": (profile.region or "-", ""),
        "target": (profile.target or "-", "dim" if not profile.target else ""),
    }


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
        return (state.summary, "problem")
    if profile.problem:
        return (_first_line(profile.problem), "problem")
    if profile.warnings:
        return (_first_line(profile.warnings[0]), "expiring")
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
    return {
        "name": (session.name, "problem" if session.problem else "name"),
        "expires": expires,
        "region": (session.region or "-", ""),
        "start_url": (session.start_url or "-", "dim"),
        "profiles": (f"{len(session.profiles)}: {served}" if served else "0", ""),
    }


def error_summary(error: Exception | None) -> str:
    """A short, single-line reason for the row; the details screen shows the full text."""
    if error is None:
        return "failed"
    if isinstance(error, RefreshCancelled):
        return "✗ cancelled (no code)"
    code = getattr(error, "code", None)
    # The row names the profile already: StsdashError.text is the message without its name.
    text = _first_line(error.text if isinstance(error, StsdashError) else str(error))
    return f"✗ {code}" if code else f"✗ {text}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def matches(profile: Profile, needle: str) -> bool:
    """The `/` filter: a case-insensitive substring of name, kind or account."""
    if not needle:
        return True
    needle = needle.lower()
    return (needle in profile.name.lower() or needle in str(profile.kind).lower()
            or needle in (profile.account_id or ""))
