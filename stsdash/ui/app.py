"""StsdashApp: an app factory. The engine and SSO manager come in as arguments, so the CLI, the demo and
the tests all run the same app against different backends."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import NoActiveWorker, get_current_worker

from stsdash.timeutil import utcnow
from stsdash.ui.commands import StsdashCommands
from stsdash.ui.screens.dashboard import DashboardScreen
from stsdash.ui.screens.mfa import MfaScreen

if TYPE_CHECKING:
    from stsdash.engine import MfaRequest, RefreshEngine
    from stsdash.settings import Settings
    from stsdash.sso.manager import SsoManager
    from stsdash.ui.broker_link import BrokerLink, CallersChanged


class StsdashApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "stsdash"
    COMMANDS = App.COMMANDS | {StsdashCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [Binding("C", "callers", "Callers", key_display="C", show=False)]

    def __init__(
        self,
        *,
        engine: RefreshEngine,
        sso: SsoManager | None = None,
        settings: Settings | None = None,
        clock: Callable[[], datetime] = utcnow,
        watch_files: bool = True,
        open_browser: bool = True,
        sso_flow: str = "device",
        broker: bool = False,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.sso = sso
        self.settings = settings if settings is not None else _settings_of(engine)
        self.clock = clock
        self.watch_files = watch_files
        self.open_browser = open_browser
        self.sso_flow = sso_flow
        self.loaded = asyncio.Event()  # set after the first load (tests and the benchmark wait on it)
        self._mfa_lock = threading.Lock()  # one MFA modal at a time, whichever worker asks
        self.broker = broker  # answer MFA prompts of other programs (stsdash.broker) in this app
        self.broker_link: BrokerLink | None = None
        theme = getattr(self.settings, "theme", None)
        if theme and theme in self.available_themes:
            self.theme = theme

    def on_mount(self) -> None:
        if self.broker:
            from stsdash.ui.broker_link import BrokerLink

            self.broker_link = BrokerLink(self).start()

    def on_unmount(self) -> None:
        if self.broker_link is not None:
            self.broker_link.stop()

    def action_callers(self) -> None:
        from stsdash.ui.screens.callers import CallersScreen

        if not isinstance(self.screen, CallersScreen):
            self.push_screen(CallersScreen())

    def on_callers_changed(self, message: CallersChanged) -> None:
        from stsdash.ui.screens.callers import CallersScreen

        for screen in self.screen_stack:
            if isinstance(screen, CallersScreen):
                screen.show(message.servers, message.prompts)

    def get_default_screen(self) -> DashboardScreen:
        return DashboardScreen()

    @property
    def dashboard(self) -> DashboardScreen:
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                return screen
        raise LookupError("the dashboard is not mounted")

    # Settings the screens read; kept here so a missing attribute has one default.
    @property
    def refresh_ahead(self) -> timedelta:
        return getattr(self.settings, "refresh_ahead", timedelta(minutes=15))

    @property
    def settings_hidden(self) -> list[str]:
        return list(getattr(self.settings, "hidden", []) or [])

    @property
    def settings_auto_refresh(self) -> bool:
        return bool(getattr(self.settings, "auto_refresh", False))

    def now(self) -> datetime:
        return self.clock()

    def ask_mfa_code(self, request: MfaRequest) -> str | None:
        """The engine's code provider. Runs in a worker thread and blocks until the modal answers."""
        with self._mfa_lock:
            answer: Future[str | None] = Future()

            def show() -> None:
                self.push_screen(MfaScreen(request), answer.set_result)

            self.call_from_thread(show)
            try:
                worker = get_current_worker()
            except NoActiveWorker:
                worker = None
            while True:
                try:
                    return answer.result(timeout=0.2)
                except FutureTimeout:
                    if (worker is not None and worker.is_cancelled) or not self.is_running:
                        return None


def _settings_of(engine: object) -> Settings:
    settings = getattr(engine, "settings", None)
    if settings is not None:
        return settings
    from stsdash.settings import load_settings

    return load_settings()
