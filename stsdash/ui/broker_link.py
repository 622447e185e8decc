"""The dashboard as the broker: answers the prompt socket with its MFA modal, and watches the servers.

Everything here runs off the UI thread: the socket has its own threads (stsdash.broker.ipc), and the
servers' status files are read by a polling thread. Changes reach the UI as a CallersChanged message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

from textual.message import Message

from stsdash.broker.ipc import PendingPrompt, PromptSocket
from stsdash.errors import StsdashError

if TYPE_CHECKING:
    from stsdash.broker.status import ServerStatus
    from stsdash.engine import MfaRequest
    from stsdash.ui.app import StsdashApp

log = logging.getLogger(__name__)
POLL_INTERVAL = 1.0  # s: how often the servers' status files are read


class CallersChanged(Message):
    """Who is being served right now: credential servers and callers waiting for a code."""

    def __init__(self, servers: list[ServerStatus], prompts: list[PendingPrompt]) -> None:
        super().__init__()
        self.servers = servers
        self.prompts = prompts


class BrokerLink:
    """Owns the prompt socket for one app; `servers` and `prompts` are the latest snapshot."""

    def __init__(self, app: StsdashApp) -> None:
        self.app = app
        self.servers: list[ServerStatus] = []
        self.prompts: list[PendingPrompt] = []
        self.listening = False
        self._socket = PromptSocket(self._ask, login=self._login, env=app.engine.env, on_change=self._poke)
        self._logins: dict[str, Future[bool]] = {}  # SSO session -> the login in progress
        self._logins_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()

    def start(self) -> BrokerLink:
        threading.Thread(target=self._run, name="stsdash-broker-link", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._socket.stop()

    def _run(self) -> None:
        try:
            self.listening = self._socket.start()
        except (OSError, StsdashError) as exc:
            log.warning("MFA prompts from other programs will not show here: %s", exc)
        if not self.listening:
            log.info("another dashboard answers MFA prompts from other programs")
        while not self._stop.is_set():
            self._publish()
            self._wake.wait(POLL_INTERVAL)
            self._wake.clear()

    def _poke(self) -> None:
        self._wake.set()

    def _publish(self) -> None:
        from stsdash.broker.status import read_servers

        servers: list[ServerStatus] = []
        with contextlib.suppress(OSError, StsdashError):
            servers = read_servers(self.app.engine.env)
        prompts = self._socket.snapshot()
        if servers == self.servers and prompts == self.prompts:
            return
        self.servers, self.prompts = servers, prompts
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.app.call_from_thread(self.app.post_message, CallersChanged(servers, prompts))

    def _ask(self, request: MfaRequest, prompt: PendingPrompt) -> str | None:
        """Show the dashboard's MFA modal for a caller elsewhere; says who asks, so the user knows why."""
        reason = f"asked by {prompt.caller}" + (f"; {request.reason}" if request.reason else "")
        return self.app.ask_mfa_code(dataclasses.replace(request, reason=reason))

    def _login(self, name: str, prompt: PendingPrompt) -> bool:
        """One SSO login per session, whoever asks: callers arriving meanwhile wait for the same one."""
        with self._logins_lock:
            running = self._logins.get(name)
            if running is None:
                mine: Future[bool] = Future()
                self._logins[name] = mine
        if running is not None:
            return running.result()
        try:
            ok = self._login_once(name)
        except Exception:
            ok = False
            log.exception("SSO login for %s failed", name)
        finally:
            with self._logins_lock:
                self._logins.pop(name, None)
        mine.set_result(ok)
        return ok

    def _login_once(self, name: str) -> bool:
        from stsdash.errors import SsoLoginRequired
        from stsdash.ui.screens.sso_login import SsoLoginScreen

        manager = self.app.sso
        session = self.app.engine.load().sso_sessions.get(name)
        if manager is None or session is None:
            return False
        try:
            manager.ensure_token(session)
            return True  # someone logged in (or refreshed) since the caller asked
        except SsoLoginRequired:
            pass
        answer: Future[bool | None] = Future()

        def show() -> None:
            screen = SsoLoginScreen(session, manager, flow=self.app.sso_flow,
                                    open_browser=self.app.open_browser)
            self.app.push_screen(screen, answer.set_result)

        self.app.call_from_thread(show)
        while True:
            try:
                return bool(answer.result(timeout=0.2))
            except FutureTimeout:
                if not self.app.is_running or self._stop.is_set():
                    return False
