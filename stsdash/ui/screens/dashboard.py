"""The dashboard: every profile and SSO session ticking down, one key to refresh.

All AWS work goes through the app's RefreshEngine / SsoManager in thread workers; results come back as
messages (see ``stsdash.ui.messages``) and are applied here, on the event loop.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from stsdash.awsfiles.perms import exposed_credentials
from stsdash.profiles import Status
from stsdash.refresh.checks import mark_refusals
from stsdash.timeutil import format_utc
from stsdash.ui.messages import (
    IdentityResult,
    LoadFailed,
    NeedsCode,
    ProfileRefreshed,
    ProfilesLoaded,
    RefreshFinished,
    RefreshStarted,
)
from stsdash.ui.rows import (
    PROFILE_COLUMNS,
    SESSION_COLUMNS,
    RowState,
    error_summary,
    expires_cell,
    matches,
    profile_cells,
    result_cell,
    session_cells,
)
from stsdash.ui.screens.details import DetailsScreen, profile_sections, session_sections
from stsdash.ui.screens.help import HelpScreen
from stsdash.ui.screens.saml import ask_saml
from stsdash.ui.screens.sso_login import SsoLoginScreen
from stsdash.ui.screens.verbs import Verbs
from stsdash.ui.widgets.footer import SettlingFooter
from stsdash.ui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from stsdash.profiles import Profile, ProfileSet, SsoSession
    from stsdash.ui.app import StsdashApp

FILE_POLL_SECONDS = 2.0
AUTO_REFRESH_SECONDS = 30.0


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh_selected", "Refresh"),
        Binding("R", "refresh_stale", "Refresh stale", key_display="R"),
        Binding("l", "sso_login", "SSO login"),
        Binding("enter", "details", "Details"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("w", "whoami", "Who am I"),
        Binding("c", "copy", "Copy export"),
        Binding("o", "console", "Console"),
        Binding("g", "region", "Region"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    app: StsdashApp

    def __init__(self) -> None:
        super().__init__()
        self.profiles: ProfileSet | None = None
        self.states: dict[str, RowState] = {}
        self.filter_text = ""
        self._spin = 0
        self._spinner_timer = None
        self._needs_code_told: set[tuple[str, datetime | None]] = set()
        self._auto_tried: dict[str, datetime | None] = {}
        self._loaded_signature: tuple | None = None  # file mtimes as of the last load (worker-owned)
        self._exposed_warning: str | None = None  # credentials file readable by others (worker-owned)
        self.verbs = Verbs(self)  # copy, console, region and decode (stsdash/ui/screens/verbs.py)

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:
        """Plain text by default: profile names, sections like [x-session] and STS messages are data."""
        super().notify(message, markup=markup, **kwargs)

    # ---- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        yield Input(placeholder="filter by name, kind or account (escape clears)", id="filter")
        with TabbedContent(id="tabs"):
            with TabPane("Profiles", id="tab-profiles"):
                yield LiveTable(PROFILE_COLUMNS, id="profiles")
            with TabPane("SSO sessions", id="tab-sessions"):
                yield LiveTable(SESSION_COLUMNS, id="sessions")
        yield SettlingFooter()

    def on_mount(self) -> None:
        self.title = "stsdash"
        self.sub_title = "loading…"
        self.query_one("#filter", Input).display = False
        self._apply_theme_styles()
        self.profile_table.live_cells = self._live_profile_cells
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())
        self.query_one("#profiles", LiveTable).focus()
        self.load_profiles()
        self.set_interval(1.0, self.tick, name="countdown")
        if self.app.watch_files:
            self.watch_files()
        if self.app.settings_auto_refresh:
            self.set_interval(AUTO_REFRESH_SECONDS, self.auto_refresh, name="auto-refresh")

    @property
    def profile_table(self) -> LiveTable:
        return self.query_one("#profiles", LiveTable)

    @property
    def session_table(self) -> LiveTable:
        return self.query_one("#sessions", LiveTable)

    # ---- rendering ----------------------------------------------------------------------------
    def _apply_theme_styles(self) -> None:
        theme = self.app.current_theme
        styles = {
            "fresh": f"{theme.success}",
            "expiring": f"bold {theme.warning}",
            "expired": f"bold {theme.error}",
            "problem": f"{theme.error}",
            "busy": f"{theme.accent}",
            "dim": "dim",
            "name": "bold",
        }
        for table in self.query(LiveTable):
            table.styles_map = styles

    def _restyle(self) -> None:
        self._apply_theme_styles()
        self.refresh_rows(force=True)

    def visible_profiles(self) -> list[Profile]:
        if self.profiles is None:
            return []
        hidden = self.app.settings_hidden
        return [p for p in self.profiles.visible(hidden) if matches(p, self.filter_text)]

    def refresh_rows(self, *, force: bool = False) -> int:
        """Diff every visible row against what the table shows; returns the number of cells updated."""
        if self.profiles is None:
            return 0
        now = self.app.now()
        ahead = self.app.refresh_ahead
        spin = self._spin
        rows = []
        for profile in self.visible_profiles():
            state = self.states.get(profile.name)
            if state is None:
                state = self.states[profile.name] = RowState()
            rows.append((profile.name, profile_cells(profile, state, now, ahead, spin)))
        sessions = [(s.name, session_cells(s, now, ahead)) for s in self.profiles.sso_sessions.values()]
        with self.app.batch_update():
            changed = self.profile_table.sync(rows, force=force)
            changed += self.session_table.sync(sessions, force=force)
        return changed

    def _live_profile_cells(self, name: str) -> dict[str, tuple[str, str]]:
        """The cells of one profile row that change with the clock: the countdown and the spinner."""
        profile = self.profiles.profiles.get(name) if self.profiles is not None else None
        if profile is None:
            return {}
        state = self.states.get(name) or RowState()
        return {
            "expires": expires_cell(profile, state, self.app.now(), self.app.refresh_ahead),
            "result": result_cell(profile, state, self._spin),
        }

    def tick(self) -> None:
        """1 Hz: countdowns. Only rows on screen are looked at, and only cells whose text changed are
        touched; rows off screen catch up when they scroll into view.

        Skipped while a modal covers the dashboard: repainting a dimmed background costs far more than
        the countdowns are worth, and typing an MFA code must stay instant. `on_screen_resume` catches up.
        """
        if self.is_current and self.profiles is not None:
            self._refresh_live()

    def _refresh_live(self) -> None:
        now = self.app.now()
        ahead = self.app.refresh_ahead
        sessions = [(s.name, session_cells(s, now, ahead)) for s in self.profiles.sso_sessions.values()]
        with self.app.batch_update():
            self.profile_table.refresh_visible()
            self.session_table.sync(sessions)

    def on_screen_resume(self) -> None:
        self.refresh_rows()

    def _spin_tick(self) -> None:
        self._spin += 1
        if not any(state.busy for state in self.states.values()) and self._spinner_timer is not None:
            self._spinner_timer.stop()
            self._spinner_timer = None
        if self.is_current and self.profiles is not None:
            self._refresh_live()

    def _update_summary(self) -> None:
        if self.profiles is None:
            return
        now = self.app.now()
        ahead = self.app.refresh_ahead
        visible = self.profiles.visible(self.app.settings_hidden)
        stale = sum(1 for p in visible if p.refreshable
                    and p.status(now, ahead) in (Status.EXPIRED, Status.EXPIRING))
        problems = sum(1 for p in visible if p.problem)
        parts = [f"{len(visible)} profiles", f"{stale} stale"]
        if problems:
            parts.append(f"{problems} with problems")
        parts.append(f"{len(self.profiles.sso_sessions)} SSO sessions")
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        self.sub_title = " · ".join(parts)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Errors from any worker end up here, once: as a notification, never a crash."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(f"{type(event.worker.error).__name__}: {event.worker.error}",
                        title=f"{event.worker.name or 'background task'} failed", severity="error",
                        timeout=10)

    # ---- loading and watching the files --------------------------------------------------------
    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_profiles(self) -> None:
        self._load_now()

    def _load_now(self) -> None:
        """Read the files (in a worker thread). The signature is taken first, so a change made while
        reading is seen by the next poll rather than lost."""
        paths = getattr(self.app.engine, "paths", None)
        signature = _signature(_watch_list(paths)) if paths is not None else None
        try:
            loaded = self.app.engine.load()
            # Shown as problems, so no row looks fine when `r` would be refused for its settings.
            mark_refusals(loaded, self.app.engine.env)
        except Exception as exc:
            self._loaded_signature = signature
            self.post_message(LoadFailed(exc))
            return
        self._loaded_signature = signature or _signature(_watch_list(loaded.paths))
        exposed = exposed_credentials(loaded.paths.credentials)
        if exposed != self._exposed_warning:  # said once, and again only when it changes
            self._exposed_warning = exposed
            if exposed:
                self.app.call_from_thread(
                    self.notify, exposed, title="Credentials file", severity="warning", timeout=20
                )
        self.post_message(ProfilesLoaded(loaded))

    def on_profiles_loaded(self, message: ProfilesLoaded) -> None:
        self.profiles = message.profiles
        for name, state in self.states.items():
            profile = message.profiles.profiles.get(name)
            override = state.expires_override
            if profile is not None and override and profile.expires_at and profile.expires_at >= override:
                state.expires_override = None  # the file caught up with the refresh: trust it again
        self.refresh_rows()
        self._update_summary()
        if not self.app.loaded.is_set():
            if self.app.settings_auto_refresh:
                self.call_later(self.auto_refresh)
            # Everything built so far (modules, widgets, the first table) lives as long as the app:
            # take it out of the cyclic GC, whose full passes over it stalled the loop for 100+ ms.
            self.call_after_refresh(gc.freeze)
        self.app.loaded.set()

    def on_load_failed(self, message: LoadFailed) -> None:
        self.notify(str(message.error), title="Cannot read the AWS files", severity="error", timeout=15)
        self.sub_title = "cannot read the AWS files"
        self.app.loaded.set()

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def watch_files(self) -> None:
        """Poll the files' mtimes every ~2 s; reload when another program changed them."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            deadline = time.monotonic() + FILE_POLL_SECONDS
            while time.monotonic() < deadline and not worker.is_cancelled:
                time.sleep(0.1)
            loaded = self.profiles
            if loaded is None or self._loaded_signature is None or worker.is_cancelled:
                continue
            if _signature(_watch_list(loaded.paths)) != self._loaded_signature:
                self._load_now()

    # ---- refresh ------------------------------------------------------------------------------
    def start_refresh(self, names: Sequence[str], *, interactive: bool = True) -> None:
        names = [n for n in names if not self.states.setdefault(n, RowState()).busy]
        if not names:
            return
        for name in names:
            state = self.states[name]
            state.busy = True
        if self._spinner_timer is None:
            self._spinner_timer = self.set_interval(0.25, self._spin_tick, name="spinner")
        self.refresh_rows()
        self._refresh_worker(list(names), interactive)

    @work(thread=True, group="refresh", exit_on_error=False)
    def _refresh_worker(self, names: list[str], interactive: bool) -> None:
        provider = self.app.ask_mfa_code if interactive else _no_code
        worker = get_current_worker()
        saml = partial(ask_saml, self.app, is_cancelled=lambda: worker.is_cancelled) if interactive else None
        self.post_message(RefreshStarted(names))
        try:
            self.app.engine.refresh(names, code_provider=provider, saml_prompt=saml,
                                    on_result=lambda result: self.post_message(ProfileRefreshed(result)))
        except Exception as exc:
            self.post_message(RefreshFinished(names, exc, quiet=not interactive))
            return
        self.post_message(RefreshFinished(names, quiet=not interactive))

    def on_profile_refreshed(self, message: ProfileRefreshed) -> None:
        """One result: the row stops spinning and its countdown restarts from the new expiry."""
        result = message.result
        state = self.states.setdefault(result.profile, RowState())
        state.busy = False
        state.last_refresh = self.app.now()
        if result.ok:
            state.ok, state.error = True, None
            state.expires_override = result.expires_at
            if result.identity is not None:
                state.identity = result.identity
            state.summary = f"✓ {format_utc(state.last_refresh)[11:19]}"
        else:
            state.ok, state.error = False, result.error
            state.summary = error_summary(result.error)
        profile = self.profiles.profiles.get(result.profile) if self.profiles is not None else None
        if profile is not None and self.is_current:  # one row, not the whole table, per result
            cells = profile_cells(profile, state, self.app.now(), self.app.refresh_ahead, self._spin)
            self.profile_table.sync_row(result.profile, cells)

    def on_refresh_finished(self, message: RefreshFinished) -> None:
        """The batch is over: one notification for it, however many profiles it held."""
        for name in message.names:
            state = self.states.setdefault(name, RowState())
            if state.busy:  # the engine gave no result for it (the whole batch failed)
                state.busy = False
                state.ok = False
                state.error = message.error
                state.summary = error_summary(message.error)
        self.refresh_rows()
        self._update_summary()
        self._notify_batch(message.names, quiet=message.quiet)
        self.load_profiles()

    def _notify_batch(self, names: list[str], *, quiet: bool) -> None:
        ok = [n for n in names if self.states[n].ok]
        failed = [n for n in names if not self.states[n].ok]
        if len(names) == 1:
            name = names[0]
            state = self.states[name]
            if state.ok:
                profile = self.profiles.profiles.get(name) if self.profiles else None
                target = f" → [{profile.target}]" if profile is not None and profile.target else ""
                self.notify(f"{name}{target}", title="Refreshed", timeout=4)
            else:
                self.notify(str(state.error or "failed"), title=f"Refresh failed: {name}", severity="error",
                            timeout=10)
            return
        if ok and (not quiet or not failed):
            self.notify(_names(ok), title=f"Refreshed {len(ok)} profiles", timeout=5)
        if failed:
            first = self.states[failed[0]].error
            reason = f"\n{first}" if first is not None else ""
            self.notify(_names(failed) + reason, title=f"{len(failed)} refreshes failed", severity="error",
                        timeout=10)

    # ---- auto-refresh -------------------------------------------------------------------------
    def auto_refresh(self) -> None:
        if self.profiles is None:
            return
        self._auto_worker(self.profiles)

    @work(thread=True, exclusive=True, group="auto", exit_on_error=False)
    def _auto_worker(self, profiles: ProfileSet) -> None:
        engine = self.app.engine
        stale = [n for n in engine.stale(profiles)
                 if not self.states.get(n, RowState()).busy
                 and self._auto_tried.get(n, object()) != profiles.profiles[n].expires_at
                 and not self._needs_saml_paste(profiles.profiles[n])]
        if not stale:
            return
        needs_code: set[str] = set()
        for request in engine.mfa_requests(stale):
            needs_code.update(request.profiles)
        quiet = [n for n in stale if n not in needs_code]
        for name in stale:
            self._auto_tried[name] = profiles.profiles[name].expires_at
        if needs_code:
            self.post_message(NeedsCode(sorted(needs_code & set(stale))))
        if quiet:
            self.app.call_from_thread(self.start_refresh, quiet, interactive=False)

    def _needs_saml_paste(self, profile: Profile) -> bool:
        """A SAML profile without saml_process waits for a person to paste: never auto-refreshed."""
        settings = getattr(self.app.settings, "profiles", {}).get(profile.name)
        return profile.kind == "saml" and not (settings and settings.saml_process)

    def on_needs_code(self, message: NeedsCode) -> None:
        names = ", ".join(message.names[:6]) + ("…" if len(message.names) > 6 else "")
        self.notify(f"{names}: press R to refresh with an MFA code", title="MFA code needed",
                    severity="warning", timeout=15)

    # ---- actions -------------------------------------------------------------------------------
    def _selected_profile(self) -> Profile | None:
        if self.profiles is None:
            return None
        name = self.profile_table.selected_key
        return self.profiles.profiles.get(name) if name else None

    def _sessions_active(self) -> bool:
        return self.query_one("#tabs", TabbedContent).active == "tab-sessions"

    def _selected_session(self) -> SsoSession | None:
        if self.profiles is None:
            return None
        if self._sessions_active():
            key = self.session_table.selected_key
            return self.profiles.sso_sessions.get(key) if key else None
        profile = self._selected_profile()
        if profile is None:
            return None
        for key in (profile.sso_session, profile.sso_start_url):
            if key and key in self.profiles.sso_sessions:
                return self.profiles.sso_sessions[key]
        for session in self.profiles.sso_sessions.values():
            if profile.name in session.profiles:
                return session
        return None

    def action_refresh_selected(self) -> None:
        if self._sessions_active():
            session = self._selected_session()
            if session is not None:
                self.start_refresh([n for n in session.profiles if self._refreshable(n)])
            return
        profile = self._selected_profile()
        if profile is None:
            return
        if not profile.refreshable or profile.problem:
            reason = profile.problem or f"{profile.kind} profiles have nothing stsdash can refresh"
            self.notify(reason, title=f"Cannot refresh {profile.name}", severity="warning")
            return
        self.start_refresh([profile.name])

    def _refreshable(self, name: str) -> bool:
        profile = self.profiles.profiles.get(name) if self.profiles else None
        return bool(profile and profile.refreshable and not profile.problem)

    def action_refresh_stale(self) -> None:
        if self.profiles is None:
            return
        self._stale_worker(self.profiles)

    @work(thread=True, exclusive=True, group="stale", exit_on_error=False)
    def _stale_worker(self, profiles: ProfileSet) -> None:
        try:
            names = self.app.engine.stale(profiles)
        except Exception as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Refresh failed", severity="error")
            return
        if not names:
            self.app.call_from_thread(self.notify, "Every profile is fresh.", title="Nothing to refresh")
            return
        self.app.call_from_thread(self.start_refresh, names)

    def action_sso_login(self) -> None:
        session = self._selected_session()
        if session is None:
            self.notify("Select an SSO profile or session first.", severity="warning")
            return
        if self.app.sso is None:
            self.notify("SSO is not available in this build.", severity="error")
            return
        screen = SsoLoginScreen(session, self.app.sso, flow=self.app.sso_flow,
                                open_browser=self.app.open_browser)
        self.app.push_screen(screen, lambda ok: self.load_profiles() if ok else None)

    def action_details(self) -> None:
        if self.profiles is None:
            return
        now = self.app.now()
        if self._sessions_active():
            session = self._selected_session()
            if session is not None:
                self.app.push_screen(DetailsScreen(session.name, session_sections(session, now)))
            return
        profile = self._selected_profile()
        if profile is None:
            return
        state = self.states.setdefault(profile.name, RowState())
        sections = profile_sections(profile, state, self.profiles, now)
        self.app.push_screen(self.verbs.details_screen(profile, sections))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.profile_table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.refresh_rows()
        self._update_summary()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            event.input.display = False
        self.query_one("#tabs", TabbedContent).active = "tab-profiles"
        self.profile_table.focus()

    def action_whoami(self) -> None:
        profile = self._selected_profile()
        if profile is None:
            return
        self.notify(f"asking STS who {profile.name} is…", title="Who am I", timeout=2)
        self._whoami_worker(profile.name)

    @work(thread=True, group="whoami", exit_on_error=False)
    def _whoami_worker(self, name: str) -> None:
        try:
            identity = self.app.engine.whoami(name)
        except Exception as exc:
            self.post_message(IdentityResult(name, None, exc))
            return
        self.post_message(IdentityResult(name, identity, None))

    def on_identity_result(self, message: IdentityResult) -> None:
        state = self.states.setdefault(message.name, RowState())
        if message.identity is not None:
            state.identity = message.identity
            self.notify(f"account {message.identity.account}\n{message.identity.arn}",
                        title=f"{message.name} is", timeout=8)
        else:
            self.notify(str(message.error), title=f"Who am I failed: {message.name}", severity="error",
                        timeout=10)

    def action_copy(self) -> None:
        profile = self._selected_profile()
        if profile is not None:
            self.verbs.copy(profile)

    def action_console(self) -> None:
        profile = self._selected_profile()
        if profile is not None:
            self.verbs.console(profile)

    def action_region(self) -> None:
        profile = self._selected_profile()
        if profile is not None:
            self.verbs.pick_region(profile)

    def action_decode(self) -> None:
        profile = self._selected_profile()
        if profile is not None:
            self.verbs.decode(profile)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())


def _names(names: list[str], limit: int = 6) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _no_code(_request) -> None:
    """Auto-refresh never opens a modal: a profile that needs a code is skipped and notified."""
    return None


def _watch_list(paths) -> list[Path]:
    return [paths.config, paths.credentials, paths.sso_cache]


def _signature(paths: list[Path]) -> tuple:
    out = []
    for path in paths:
        try:
            if path.is_dir():
                with os.scandir(path) as entries:
                    out.append(tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries)))
            else:
                stat = path.stat()
                out.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append(None)
    return tuple(out)

