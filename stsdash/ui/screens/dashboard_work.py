"""The dashboard's background work: reading and watching the AWS files, refreshes, auto-refresh and
who-am-I, each in a thread worker whose results come back as messages handled here, on the event loop.

`DashboardScreen` (dashboard.py) draws all this; the hooks at the end are where it does.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from stsdash.autorefresh import AutoRefreshPolicy
from stsdash.awsfiles import watch
from stsdash.awsfiles.perms import exposed_credentials
from stsdash.refresh.checks import mark_refusals
from stsdash.timeutil import format_utc
from stsdash.ui.messages import (
    IdentityResult,
    LoadFailed,
    NeedsCode,
    ProfileRefreshed,
    ProfilesLoaded,
    RefreshFinished,
)
from stsdash.ui.notices import batch_notices, names_text
from stsdash.ui.rows import RowState, error_summary
from stsdash.ui.screens.saml import ask_saml
from stsdash.ui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from stsdash.engine import RefreshResult
    from stsdash.profiles import ProfileSet
    from stsdash.ui.app import StsdashApp


class DashboardWork(Screen[None]):
    app: StsdashApp

    def __init__(self) -> None:
        super().__init__()
        self.profiles: ProfileSet | None = None
        self.states: dict[str, RowState] = {}
        self.spin = 0
        self._spinner_timer: Timer | None = None
        self._auto = AutoRefreshPolicy()
        self._loaded_signature: tuple | None = None  # file mtimes as of the last load (worker-owned)
        self._exposed_warning: str | None = None  # credentials file readable by others (worker-owned)
        self._stop = threading.Event()  # set when the screen goes away: the file poller ends at once

    def on_unmount(self) -> None:
        self._stop.set()

    @property
    def profile_table(self) -> LiveTable:
        return self.query_one("#profiles", LiveTable)

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
        signature = watch.signature(paths) if paths is not None else None
        try:
            loaded = self.app.engine.load()
            # Shown as problems, so no row looks fine when `r` would be refused for its settings.
            mark_refusals(loaded, self.app.engine.env)
        except Exception as exc:
            self._loaded_signature = signature
            self.post_message(LoadFailed(exc))
            return
        self._loaded_signature = signature or watch.signature(loaded.paths)
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
        self.files_loaded()
        if not self.app.loaded.is_set():
            if self.app.settings_auto_refresh:
                self.call_later(self.run_auto_refresh)
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
        """Poll the files' mtimes every couple of seconds; reload when another program changed them."""
        worker = get_current_worker()
        while not worker.is_cancelled and not self._stop.wait(watch.POLL_SECONDS):
            loaded = self.profiles
            if loaded is None or self._loaded_signature is None or worker.is_cancelled:
                continue
            if watch.signature(loaded.paths) != self._loaded_signature:
                self._load_now()

    # ---- refresh ------------------------------------------------------------------------------
    def start_refresh(self, names: Sequence[str], *, interactive: bool = True) -> None:
        names = [n for n in names if not self.states.setdefault(n, RowState()).busy]
        if not names:
            return
        for name in names:
            self.states[name].busy = True
            self.profile_table.refresh_row(name)
        if self._spinner_timer is None:
            self._spinner_timer = self.set_interval(0.25, self._spin_tick, name="spinner")
        self.update_summary()  # "Refreshing N… (escape cancels)"
        self._refresh_worker(list(names), interactive)

    @work(thread=True, group="refresh", exit_on_error=False)
    def _refresh_worker(self, names: list[str], interactive: bool) -> None:
        provider = self.app.ask_mfa_code if interactive else _no_code
        worker = get_current_worker()
        saml = partial(ask_saml, self.app, is_cancelled=lambda: worker.is_cancelled) if interactive else None

        def report(result: RefreshResult) -> None:
            self.post_message(ProfileRefreshed(result))

        try:
            self.app.engine.refresh(names, code_provider=provider, saml_prompt=saml, on_result=report)
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
        self.update_summary()
        if self.is_current:  # one row, not the whole table, per result
            self.profile_table.refresh_row(result.profile)
            if result.profile == self.profile_table.selected_key:
                self.update_detail_line()

    def on_refresh_finished(self, message: RefreshFinished) -> None:
        """The batch is over: one notification per outcome, however many profiles it held."""
        for name in message.names:
            state = self.states.setdefault(name, RowState())
            if state.busy:  # the engine gave no result for it (the whole batch failed)
                state.busy, state.ok, state.error = False, False, message.error
                state.summary = error_summary(message.error)
            self.profile_table.refresh_row(name)
        self.update_summary()
        self.update_detail_line()
        profiles = self.profiles.profiles if self.profiles is not None else {}
        targets = {n: profiles[n].target if n in profiles else None for n in message.names}
        sessions = {n: profiles[n].sso_session or profiles[n].sso_start_url if n in profiles else None
                    for n in message.names}
        for notice in batch_notices(message.names, self.states, targets, quiet=message.quiet,
                                    session_of=sessions):
            self.notify(notice.message, title=notice.title, severity=notice.severity,  # type: ignore[arg-type]
                        timeout=notice.timeout)
        self.load_profiles()

    # ---- auto-refresh -------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="auto", exit_on_error=False)
    def _auto_worker(self, profiles: ProfileSet) -> None:
        plan = self._auto.plan(self.app.engine, profiles,
                               busy=lambda n: self.states.get(n, RowState()).busy)
        if plan.needs_code:
            self.post_message(NeedsCode(plan.needs_code))
        if plan.quiet:
            self.app.call_from_thread(self.start_refresh, plan.quiet, interactive=False)

    def on_needs_code(self, message: NeedsCode) -> None:
        self.notify(f"{names_text(message.names)}: press R to refresh with an MFA code",
                    title="MFA code needed", severity="warning", timeout=15)

    @work(thread=True, exclusive=True, group="stale", exit_on_error=False)
    def stale_worker(self, profiles: ProfileSet) -> None:
        try:
            names = self.app.engine.stale(profiles)
        except Exception as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Refresh failed", severity="error")
            return
        if not names:
            self.app.call_from_thread(self.notify, "Every profile is fresh.", title="Nothing to refresh")
            return
        self.app.call_from_thread(self.start_refresh, names)

    @work(thread=True, group="whoami", exit_on_error=False)
    def whoami_worker(self, name: str) -> None:
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


    def _spin_tick(self) -> None:
        self.spin += 1
        if not any(state.busy for state in self.states.values()) and self._spinner_timer is not None:
            self._spinner_timer.stop()
            self._spinner_timer = None
        self.tick()

    # ---- hooks: how the screen shows what happened ----------------------------------------------
    def files_loaded(self) -> None:
        """New files were read: show their rows."""

    def tick(self) -> None:
        """Time moved (the countdown, the spinner): repaint what changed."""

    def update_summary(self) -> None:
        """The counts in the header."""

    def update_detail_line(self) -> None:
        """The line under the table about the selected row."""

    def run_auto_refresh(self) -> None:
        if self.profiles is not None:
            self._auto_worker(self.profiles)


def _no_code(_request: object) -> None:
    """Auto-refresh never opens a modal: a profile that needs a code is skipped and notified."""
    return None
