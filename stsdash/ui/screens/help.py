"""`?`: every key, in one place, made from the dashboard's own bindings (the footer shows a few)."""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, keys: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.keys = keys  # (key display, action, what it does)

    def compose(self) -> ComposeResult:
        width = max((len(key) for key, _, _ in self.keys), default=6)
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Label("Keys", classes="dialog-title")
            for key, _action, text in self.keys:
                with Horizontal(classes="help-line"):
                    label = Label(f"[b]{escape(key)}[/b]", classes="help-key")
                    label.styles.width = width + 2
                    yield label
                    yield Label(escape(text), classes="help-text")
            yield Static("Countdowns: green fresh · yellow inside the refresh-ahead window · red expired.",
                         classes="dialog-hint")
            yield Static("escape close", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
