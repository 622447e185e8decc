"""StsdashApp: an app factory. The engine and SSO manager come in as arguments, so the CLI, the demo and
the tests all run the same app against different backends."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.worker import NoActiveWorker, get_current_worker

from stsdash.clipboard import clipboard_tool, copy_with_tool
from stsdash.timeutil import utcnow
from stsdash.ui.palette import DashboardCommands
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
    COMMANDS = App.COMMANDS | {DashboardCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("C", "callers", "Callers", key_display="C", show=False,
                tooltip="callers: credential servers, their clients, pending prompts"),
    ]

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
        self._deferred: list[tuple[str, dict]] = []  # notifications raised while a modal was open
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

    # ---- notifications never cover a modal ---------------------------------------------------------
    def notify(self, message: str, **kwargs) -> None:
        """While a modal is open, hold notifications back until the dashboard shows again: a toast
        over an MFA prompt hides its text or its keys."""
        if isinstance(self.screen, ModalScreen):
            self._deferred.append((message, kwargs))
            return
        super().notify(message, **kwargs)

    def show_deferred_notifications(self) -> None:
        deferred, self._deferred = self._deferred, []
        for message, kwargs in deferred:
            super().notify(message, **kwargs)

    # ---- the palette's system commands: each once, and a screenshot that says where it went --------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title in ("Keys", "Maximize", "Minimize"):
                continue  # `Keys` is the dashboard's own help (?); the dashboard fills the screen
            if command.title == "Screenshot":
                yield SystemCommand("Screenshot", "Save an SVG of the screen and say where",
                                    lambda: self.set_timer(0.1, self.save_screenshot_somewhere))
                continue
            yield command

    def save_screenshot_somewhere(self) -> None:
        svg = self.export_screenshot()
        self._write_screenshot(svg, screenshot_dir())

    @work(thread=True, group="screenshot", exit_on_error=False)
    def _write_screenshot(self, svg: str, directory: str) -> None:
        stamp = self.now().strftime("%Y-%m-%dT%H-%M-%S")
        path = os.path.join(directory, f"stsdash-{stamp}.svg")
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(svg)
        except OSError as exc:
            self.call_from_thread(self.notify, str(exc), title="Screenshot not saved", severity="error")
            return
        self.call_from_thread(self.notify, path, title="Screenshot saved", markup=False, timeout=8)

    # ---- the clipboard --------------------------------------------------------------------------
    def copy_text(self, text: str, *, shown: str | None = None, label: str | None = None) -> None:
        """`c`: a clipboard tool when there is one, else OSC 52 (which nothing can confirm). The lines
        are shown either way (`shown`: the same with secrets masked), so they can be copied by hand."""
        self._copy_worker(text, shown if shown is not None else text, label, clipboard_tool())

    @work(thread=True, group="copy", exit_on_error=False)
    def _copy_worker(self, text: str, shown: str, label: str | None, tool: tuple[str, ...] | None) -> None:
        failed = copy_with_tool(text, tool) if tool is not None else None
        self.call_from_thread(self._copied, text, shown, label, tool, failed)

    def _copied(self, text: str, shown: str, label: str | None, tool: tuple[str, ...] | None,
                failed: str | None) -> None:
        of = f" ({label})" if label else ""
        if tool is not None and failed is None:
            self.notify(shown, title=f"Copied with {os.path.basename(tool[0])}{of}", markup=False, timeout=6)
            return
        why = f"{failed}. " if failed else ""
        if self.is_headless:
            self.notify(shown, title=f"{why}No clipboard here{of}: copy these lines", markup=False,
                        timeout=12)
            return
        self.copy_to_clipboard(text)
        self.notify(shown, title=f"{why}Sent to the terminal's clipboard{of} (OSC 52; not every terminal "
                    "accepts it)", markup=False, timeout=10)

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


def screenshot_dir() -> str:
    """The first of ~/Downloads, ~ and the working directory that exists and can be written."""
    home = os.path.expanduser("~")
    for candidate in (os.path.join(home, "Downloads"), home, os.getcwd()):
        if os.path.isdir(candidate) and os.access(candidate, os.W_OK):
            return candidate
    import tempfile

    return tempfile.gettempdir()


def _settings_of(engine: object) -> Settings:
    settings = getattr(engine, "settings", None)
    if settings is not None:
        return settings
    from stsdash.settings import load_settings

    return load_settings()
