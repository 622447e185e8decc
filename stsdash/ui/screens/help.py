"""`?`: every key, in one place (the footer shows only the most used)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KEYS: tuple[tuple[str, str], ...] = (
    ("r", "refresh the selected profile (asks for an MFA code only when needed)"),
    ("R", "refresh every stale profile: one code per MFA device"),
    ("l", "log in to the selected SSO session"),
    ("enter", "details: identity, target, source chain, last error"),
    ("/", "filter by name, kind or account (escape clears)"),
    ("w", "who am I: GetCallerIdentity for the selected profile"),
    ("c", "copy exports (AWS_PROFILE or the keys) for sh, fish, powershell, dotenv or json"),
    ("o", "open the AWS console signed in as the selected profile"),
    ("g", "choose the selected profile's region for this session (used by c and o)"),
    ("C", "callers: credential servers, their clients, pending prompts"),
    ("tab", "switch between the profiles and SSO sessions tables"),
    ("ctrl+p", "command palette: every action"),
    ("?", "this help"),
    ("q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Label("Keys", classes="dialog-title")
            for key, text in KEYS:
                yield Static(f"[b]{key:>6}[/b]  {text}", classes="help-line")
            yield Static("Countdowns: green fresh · yellow inside the refresh-ahead window · red expired.",
                         classes="dialog-hint")
            yield Static("escape close", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
