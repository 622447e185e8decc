"""SSO login: shows the user code and verification URL, opens the browser, polls until approved."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, LoadingIndicator, Static

if TYPE_CHECKING:
    from stsdash.profiles import SsoSession
    from stsdash.sso.manager import LoginPrompt, SsoManager


class SsoLoginScreen(ModalScreen[bool]):
    """Dismisses True once the token is cached, False on cancel or failure (the failure is notified)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: SsoSession, manager: SsoManager, *, flow: str = "device",
                 open_browser: bool = True) -> None:
        super().__init__()
        self.session = session
        self.manager = manager
        self.flow = flow
        self.open_browser = open_browser
        self.cancel_event = threading.Event()

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:
        """Plain text by default: profile names, sections like [x-session] and STS messages are data,
        and any control character in them is shown escaped, never sent to the terminal."""
        from stsdash.terminal import printable

        if isinstance(kwargs.get("title"), str):
            kwargs["title"] = printable(kwargs["title"])
        super().notify(printable(message, keep_newlines=True), markup=markup, **kwargs)

    def compose(self) -> ComposeResult:
        with Vertical(id="sso-dialog", classes="dialog"):
            yield Label(f"SSO login: {escape(self.session.name)}", classes="dialog-title")
            yield Static(escape(self.session.start_url or ""), classes="dim")
            yield Static("Starting the login…", id="sso-code")
            yield Static("", id="sso-url")
            yield LoadingIndicator(id="sso-progress")
            yield Static("Contacting the SSO service", id="sso-status", classes="dim")
            yield Static("escape cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self._login()

    def on_unmount(self) -> None:
        self.cancel_event.set()  # the app is closing or the modal went away: stop polling

    @work(thread=True, exclusive=True, group="sso-login", exit_on_error=False)
    def _login(self) -> None:
        try:
            self.manager.login(self.session, flow=self.flow, on_prompt=self._prompt_from_thread,
                               open_browser=self.open_browser, cancel=self.cancel_event)
        except Exception as exc:  # every failure becomes a notification, never a crash
            if not self.cancel_event.is_set():
                self.app.call_from_thread(self._finish, False, exc)
            return
        if not self.cancel_event.is_set():
            self.app.call_from_thread(self._finish, True, None)

    def _prompt_from_thread(self, prompt: LoginPrompt) -> None:
        self.app.call_from_thread(self.show_prompt, prompt)

    def show_prompt(self, prompt: LoginPrompt | Any) -> None:
        code = self.query_one("#sso-code", Static)
        if prompt.user_code:
            code.update(f"Code  [b reverse] {escape(prompt.user_code)} [/]")
        else:
            code.update("Approve the request in your browser.")
        url = prompt.verification_uri_complete or prompt.verification_uri
        self.query_one("#sso-url", Static).update(f"Open  {escape(url)}")
        browser = "Browser opened · " if self.open_browser else ""
        self.query_one("#sso-status", Static).update(
            f"{browser}{escape(prompt.status or 'waiting for approval')}")

    def _finish(self, ok: bool, error: Exception | None) -> None:
        if ok:
            self.notify(f"Logged in to SSO session {self.session.name}", title="SSO")
        else:
            self.notify(str(error), title=f"SSO login failed: {self.session.name}", severity="error",
                        timeout=10)
        self.dismiss(ok)

    def action_cancel(self) -> None:
        self.cancel_event.set()
        self.notify(f"SSO login for {self.session.name} cancelled", severity="warning")
        self.dismiss(False)
