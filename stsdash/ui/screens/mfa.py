"""The MFA prompt: one code for every profile behind one device, six digits only."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

if TYPE_CHECKING:
    from stsdash.engine import MfaRequest


class MfaScreen(ModalScreen[str | None]):
    """Dismisses with the six-digit code, or None when the user cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, request: MfaRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        request = self.request
        with Vertical(id="mfa-dialog", classes="dialog"):
            yield Label("MFA code", classes="dialog-title")
            yield Static(f"Device  [b]{_escape(request.serial)}[/b]", id="mfa-device")
            if request.reason:
                yield Static(_escape(request.reason), id="mfa-reason", classes="dim")
            names = request.profiles
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            yield Static(f"Unlocks {len(names)} profile{'s' if len(names) != 1 else ''}: "
                         f"{_escape(shown)}", id="mfa-profiles")
            error = Static(_escape(request.last_error or ""), id="mfa-error", classes="error")
            error.display = bool(request.last_error)
            yield error
            yield Input(placeholder="6 digits", restrict=r"[0-9]*", max_length=6, id="mfa-code")
            attempt = f"attempt {request.attempt} · " if request.attempt > 1 else ""
            yield Static(f"{attempt}enter submit · escape cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        code = event.value
        if len(code) == 6 and code.isdigit():
            self.dismiss(code)
        else:
            self.show_error("Enter all six digits.")

    def show_error(self, message: str) -> None:
        error = self.query_one("#mfa-error", Static)
        error.update(_escape(message))
        error.display = True

    def action_cancel(self) -> None:
        self.dismiss(None)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
