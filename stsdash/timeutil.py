"""Timestamps as the AWS tools write them, read leniently and always written in UTC with a zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UTC_SUFFIX = re.compile(r"(UTC|GMT)$", re.IGNORECASE)


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_timestamp(text: str) -> tuple[datetime, bool]:
    """Parse ISO 8601 / `...Z` / `...UTC` / epoch seconds. Returns (aware UTC datetime, zone_was_missing).

    A timestamp without a zone is read as UTC; the caller should warn, since awsume-style local times
    written without a zone break other readers.
    Raises ValueError on anything else.
    """
    raw = text.strip().strip('"')
    if not raw:
        raise ValueError("empty timestamp")
    if re.fullmatch(r"\d{9,13}(\.\d+)?", raw):
        value = float(raw)
        if value > 1e11:  # milliseconds
            value /= 1000.0
        return datetime.fromtimestamp(value, UTC), False
    cleaned = _UTC_SUFFIX.sub("+00:00", raw)
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    cleaned = cleaned.replace(" ", "T", 1) if "T" not in cleaned and " " in cleaned else cleaned
    parsed = datetime.fromisoformat(cleaned)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC), True
    return parsed.astimezone(UTC), False


def format_utc(moment: datetime) -> str:
    """`2026-11-23T09:12:41Z`: the one format stsdash writes."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_countdown(expires_at: datetime | None, now: datetime) -> str:
    """`12m 05s`, `7h 58m`, `2d 3h`, `expired 3m ago`, or `-` when unknown."""
    if expires_at is None:
        return "-"
    delta = expires_at - now
    if delta <= timedelta(0):
        return f"expired {_short(-delta)} ago"
    return _long(delta)


def _long(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def _short(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
