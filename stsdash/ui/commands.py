"""Command palette: every dashboard action, plus "refresh <profile>" for each profile by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from stsdash.ui.app import StsdashApp

ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Refresh selected profile", "refresh_selected", "r: new keys for the highlighted profile"),
    ("Refresh all stale profiles", "refresh_stale", "R: one MFA code per device"),
    ("SSO login", "sso_login", "l: log in to the selected SSO session"),
    ("Details", "details", "enter: identity, target, source chain, last error"),
    ("Filter profiles", "filter", "/: by name, kind or account"),
    ("Who am I", "whoami", "w: GetCallerIdentity for the selected profile"),
    ("Copy export lines", "copy", "c: AWS_PROFILE or the keys, quoted for sh/fish/powershell/dotenv/json"),
    ("Open the AWS console", "console", "o: federation sign-in as the selected profile, in the browser"),
    ("Choose a region", "region", "g: the selected profile's region for this session (copy, console)"),
    ("Decode an authorization failure", "decode", "paste an encoded message; DecodeAuthorizationMessage"),
    ("Keys", "help", "?: every key"),
)


class StsdashCommands(Provider):
    app: StsdashApp

    def _run(self, action: str) -> None:
        getattr(self.app.dashboard, f"action_{action}")()

    def _refresh_one(self, name: str) -> None:
        self.app.dashboard.start_refresh([name])

    async def discover(self) -> Hits:
        for title, action, help_text in ACTIONS:
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), help=help_text)
        profiles = self.app.dashboard.profiles
        if profiles is None:
            return
        for profile in profiles.visible(self.app.settings_hidden):
            if not profile.refreshable or profile.problem:
                continue
            title = f"Refresh {profile.name}"
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._refresh_one, profile.name),
                          help=f"{profile.kind} → [{profile.target}]")
