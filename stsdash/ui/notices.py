"""The words of the dashboard's notifications, worked out apart from the screen (no textual here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stsdash.engine import RefreshCancelled
from stsdash.errors import StsdashError
from stsdash.ui.rows import RowState, dashboard_hint, error_words, plural


@dataclass(frozen=True)
class Notice:
    title: str
    message: str
    severity: str = "information"  # information | warning | error
    timeout: float = 5.0


def names_text(names: list[str], limit: int = 6) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def batch_notices(names: list[str], states: Mapping[str, RowState], targets: Mapping[str, str | None],
                  *, quiet: bool, session_of: Mapping[str, str | None] | None = None) -> list[Notice]:
    """One notice per outcome of a batch: refreshed, cancelled, failed (a cancel is not a failure)."""
    ok = [n for n in names if states[n].ok]
    cancelled = [n for n in names if not states[n].ok and isinstance(states[n].error, RefreshCancelled)]
    failed = [n for n in names if not states[n].ok and n not in cancelled]
    notices: list[Notice] = []
    if len(ok) == 1 and len(names) == 1:
        target = targets.get(ok[0])
        notices.append(Notice("Refreshed", f"{ok[0]} → [{target}]" if target else ok[0], timeout=4))
    elif ok and (not quiet or not failed):
        notices.append(Notice(f"Refreshed {plural(len(ok), 'profile')}", names_text(ok)))
    if cancelled:
        notices.append(Notice("Refresh cancelled", f"No code given: {names_text(cancelled)} "
                              "left as they were.", "warning", 5))
    if failed:
        first = states[failed[0]].error
        session = (session_of or {}).get(failed[0])
        hint = dashboard_hint(first, session)
        if len(failed) == 1:
            title = f"Refresh failed: {failed[0]}"
            body = _error_text(first)
        else:
            title = f"{plural(len(failed), 'refresh', 'refreshes')} failed"
            body = f"{names_text(failed)}\n{failed[0]}: {error_words(first)}"
        notices.append(Notice(title, body + (f"\n{hint}" if hint else ""), "error", 10))
    return notices


def _error_text(error: Exception | None) -> str:
    """The message without the profile's name (the title has it) and, when the dashboard has a hint
    in its own keys, without the CLI hint."""
    if error is None:
        return "failed"
    if not isinstance(error, StsdashError):
        return str(error)
    if error.hint and dashboard_hint(error) is None:
        return f"{error.text}\n{error.hint}"
    return error.text
