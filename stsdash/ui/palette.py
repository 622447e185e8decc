"""Command palette: every dashboard key by name (from the same bindings as help and the footer), and
"Refresh <profile>" for each profile."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from stsdash.ui.app import StsdashApp

# Commands with no key of their own: only in the palette.
PALETTE_ONLY: tuple[tuple[str, str, str], ...] = (
    ("Decode an authorization failure", "decode", "paste an encoded message; DecodeAuthorizationMessage"),
)

# Already in the palette as system commands (Quit), or not an action to run from it.
_LEFT_OUT = frozenset({"app.quit", "command_palette", "clear_filter", "help_close"})


class DashboardCommands(Provider):
    @property
    def stsdash(self) -> StsdashApp:
        return cast("StsdashApp", self.app)

    def commands(self) -> list[tuple[str, str, str]]:
        """(title, action, help) per dashboard key."""
        out = []
        for key, action, text in self.stsdash.dashboard.key_help():
            if action in _LEFT_OUT:
                continue
            title = text.split(":")[0].split(" (")[0]
            out.append((title[:1].upper() + title[1:], action, f"{key}: {text}"))
        return out + list(PALETTE_ONLY)

    def _run(self, action: str) -> None:
        self.stsdash.call_later(self.stsdash.dashboard.run_action, action)

    def _refresh_one(self, name: str) -> None:
        self.stsdash.dashboard.start_refresh([name])

    async def discover(self) -> Hits:
        for title, action, help_text in self.commands():
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), help=help_text)
        profiles = self.stsdash.dashboard.profiles
        if profiles is None:
            return
        for profile in profiles.visible(self.stsdash.settings_hidden):
            if not profile.refreshable or profile.problem:
                continue
            title = f"Refresh {profile.name}"
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._refresh_one, profile.name),
                          help=f"{profile.kind} → [{profile.target}]")
