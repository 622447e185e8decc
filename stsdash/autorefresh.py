"""The dashboard's auto-refresh policy (settings `auto_refresh = true`): what to refresh unasked.

Every AUTO_REFRESH_SECONDS the dashboard asks `plan`: stale profiles that need no MFA code are
refreshed quietly; those that need a code are only named (a modal never opens unasked). A profile is
tried once per expiry it had, so a failure is not retried every half minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsdash.engine import RefreshEngine
    from stsdash.profiles import Profile, ProfileSet
    from stsdash.settings import Settings

AUTO_REFRESH_SECONDS = 30.0


@dataclass
class AutoPlan:
    quiet: list[str] = field(default_factory=list)  # refresh now, no prompt possible
    needs_code: list[str] = field(default_factory=list)  # tell the user: R refreshes them with a code


class AutoRefreshPolicy:
    def __init__(self) -> None:
        self._tried: dict[str, datetime | None] = {}

    def plan(self, engine: RefreshEngine, profiles: ProfileSet, busy: Callable[[str], bool]) -> AutoPlan:
        """Blocking (asks the engine which MFA devices are involved): call it from a worker thread."""
        untried = object()
        settings = getattr(engine, "settings", None)
        stale = [name for name in engine.stale(profiles)
                 if not busy(name) and self._tried.get(name, untried) != profiles.profiles[name].expires_at
                 and not needs_saml_paste(profiles.profiles[name], settings)]
        if not stale:
            return AutoPlan()
        needs_code: set[str] = set()
        for request in engine.mfa_requests(stale):
            needs_code.update(request.profiles)
        for name in stale:
            self._tried[name] = profiles.profiles[name].expires_at
        return AutoPlan(quiet=[n for n in stale if n not in needs_code],
                        needs_code=sorted(needs_code & set(stale)))


def needs_saml_paste(profile: Profile, settings: Settings | None) -> bool:
    """A SAML profile without saml_process waits for a person to paste: never auto-refreshed."""
    configured = getattr(settings, "profiles", {}).get(profile.name)
    return profile.kind == "saml" and not (configured and configured.saml_process)
