"""What a role hop sends besides its source: session duration (with STS's chaining cap) and name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stsdash.refresh.naming import default_session_name

if TYPE_CHECKING:
    from stsdash.profiles import Profile
    from stsdash.refresh.context import RunContext

CHAINED_ROLE_MAX_SECONDS = 3600  # STS caps role->role hops at one hour


def duration(ctx: RunContext, p: Profile, *, chained: bool) -> tuple[int | None, list[str]]:
    """Per-profile settings, then the profile's duration_seconds, then settings.role_duration."""
    settings = ctx.settings
    configured = settings.profile(p.name).duration_seconds or p.duration_seconds
    seconds = configured or settings.role_duration
    if chained and seconds and seconds > CHAINED_ROLE_MAX_SECONDS:
        return CHAINED_ROLE_MAX_SECONDS, [
            f"profile {p.name}: duration {seconds} s clamped to {CHAINED_ROLE_MAX_SECONDS} s "
            "(STS limit for role chaining)"
        ]
    return seconds, []


def session_name(ctx: RunContext, p: Profile) -> str:
    configured = ctx.settings.profile(p.name).role_session_name or p.role_session_name
    return configured or default_session_name(ctx.env)
