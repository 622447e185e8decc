"""Everything known about one profile, without a single secret: only the access key id's last four."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from stsdash.timeutil import format_countdown, format_utc
from stsdash.ui.rows import RowState

if TYPE_CHECKING:
    from stsdash.profiles import Profile, ProfileSet, SsoSession


class DetailsScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.title_text = title
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details-dialog", classes="dialog"):
            yield Label(escape(self.title_text), classes="dialog-title")
            for heading, rows in self.sections:
                yield Label(heading, classes="details-heading")
                for key, value in rows:
                    classes = "details-row error" if key == "error" else "details-row"
                    yield Static(f"[b]{escape(key):>13}[/b]  {escape(value)}", classes=classes)
            yield Static("escape close", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)


def profile_sections(profile: Profile, state: RowState, profiles: ProfileSet,
                     now: datetime) -> list[tuple[str, list[tuple[str, str]]]]:
    """The details of a profile as (heading, [(label, value)]) — plain text, nothing secret."""
    where = ", ".join(f"{path.name}:{line}" for path, line in profile.origins) or "-"
    overview = [("kind", str(profile.kind)), ("region", profile.region or "-"), ("defined in", where)]
    if profile.role_arn:
        overview.append(("role", profile.role_arn))
    if profile.sso_account_id:
        overview.append(("sso", f"{profile.sso_account_id} / {profile.sso_role_name} "
                                f"via {profile.sso_session or profile.sso_start_url}"))

    identity = state.identity
    ident = [("account", identity.account if identity else (profile.account_id or "-")),
             ("arn", identity.arn if identity else "unknown (press w)")]

    target_rows: list[tuple[str, str]] = []
    expires_at = state.expires_override or profile.expires_at
    if profile.target:
        target_rows.append(("section", f"[{profile.target}] in {tidy_path(profiles.paths.credentials)}"))
        section = profiles.profiles.get(profile.target)
        creds = section.static_credentials if section else None
        target_rows.append(("key id", creds.masked_key_id if creds else "none written yet"))
    else:
        target_rows.append(("section", "none: stsdash does not write keys for this profile"))
        if profile.static_credentials:
            target_rows.append(("key id", profile.static_credentials.masked_key_id))
    target_rows.append(("expires", f"{format_utc(expires_at)} ({format_countdown(expires_at, now)})"
                        if expires_at else "-"))

    chain = profile.chain or [profile.name]
    mfa = profile.mfa_serial or _chain_mfa(chain, profiles)
    source = [("chain", " → ".join(chain)), ("mfa device", mfa or "none")]

    refresh = [("last refresh", format_utc(state.last_refresh) if state.last_refresh else "never (this run)"),
               ("result", state.summary or "-")]
    if state.error is not None:
        refresh.append(("error", str(state.error)))
    if profile.problem:
        refresh.append(("error", profile.problem))
    for warning in profile.warnings:
        refresh.append(("warning", warning))

    return [("Profile", overview), ("Identity", ident), ("Target", target_rows),
            ("Source", source), ("Refresh", refresh)]


def session_sections(session: SsoSession, now: datetime) -> list[tuple[str, list[tuple[str, str]]]]:
    expires = session.token_expires_at
    rows = [
        ("start url", session.start_url or "-"),
        ("region", session.region or "-"),
        ("scopes", ", ".join(session.scopes) or "-"),
        ("token", f"{format_utc(expires)} ({format_countdown(expires, now)})"
                  if expires else "not logged in"),
        ("refreshable", "yes" if session.token_refreshable else "no (log in again when it expires)"),
        ("cache file", tidy_path(session.cache_file)),
        ("profiles", ", ".join(session.profiles) or "-"),
    ]
    if session.problem:
        rows.append(("error", session.problem))
    return [("SSO session", rows)]


def tidy_path(path: Path) -> str:
    """`~/.aws/credentials` rather than the full home path: shorter, and the same in every screenshot."""
    home = os.environ.get("HOME")
    text = str(path)
    if home and text.startswith(home.rstrip("/") + "/"):
        return "~" + text[len(home.rstrip("/")):]
    return text


def _chain_mfa(chain: list[str], profiles: ProfileSet) -> str | None:
    for name in chain:
        other = profiles.profiles.get(name)
        if other is not None and other.mfa_serial:
            return other.mfa_serial
    return None
