"""The SAML modal: paste an assertion (when the profile has no saml_process) and pick the role.

The paste is read as it arrives (defusedxml, no entities) and the modal shows what it offers: each
role with its account id and name, the provider, and when the assertion expires. The remembered
role is preselected. The assertion is a credential for its few minutes: the paste box shows only how
many characters it holds, never the text.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from stsdash.saml.assertion import SamlAssertion, SamlAssertionError, SamlRole, decode_assertion
from stsdash.saml.roles import describe_role
from stsdash.saml.session import SamlAnswer, SamlRequest
from stsdash.timeutil import format_countdown, utcnow

if TYPE_CHECKING:
    from textual.app import App


class PasteBox(Static, can_focus=True):
    """Takes a paste (or typed characters, for terminals without bracketed paste) and hides it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("backspace,ctrl+u", "clear", "Clear", show=False)]

    class Changed(Message):
        def __init__(self, box: PasteBox) -> None:
            super().__init__()
            self.box = box

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""

    def on_mount(self) -> None:
        self._show()

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self._set(self.text + event.text)

    def on_key(self, event: events.Key) -> None:
        if event.character and event.is_printable and len(event.character) == 1:
            event.stop()
            self._set(self.text + event.character)

    def action_clear(self) -> None:
        self._set("")

    def _set(self, text: str) -> None:
        self.text = text
        self._show()
        self.post_message(self.Changed(self))

    def _show(self) -> None:
        count = len(self.text.strip())
        self.update(f"{count:,} characters pasted (hidden) · backspace clears" if count
                    else "Paste here (your terminal's paste key)")


class SamlScreen(ModalScreen["SamlAnswer | None"]):
    """Dismisses with a SamlAnswer, or None when the user cancels."""

    DEFAULT_CSS = """
    SamlScreen { align: center middle; background: $background; }
    #saml-dialog { width: 90; }
    #saml-dialog Static { margin-bottom: 1; }
    #saml-paste { border: tall $accent; padding: 0 1; margin-bottom: 1; }
    #saml-paste:focus { border: tall $primary; }
    #saml-roles { height: auto; max-height: 12; margin-bottom: 1; }
    #saml-error { background: $error 15%; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Use", priority=True),
    ]

    def __init__(self, request: SamlRequest) -> None:
        super().__init__()
        self.request = request
        self.assertion: SamlAssertion | None = None
        self.roles: tuple[SamlRole, ...] = request.roles
        self._parse_timer: Timer | None = None
        self.reading = False  # a paste arrived and is not read yet

    def compose(self) -> ComposeResult:
        request = self.request
        with Vertical(id="saml-dialog", classes="dialog"):
            yield Label(f"SAML sign-in · {escape(request.profile)}", classes="dialog-title")
            if request.need_assertion:
                yield Static("Paste the SAMLResponse your identity provider posts to AWS "
                             "(base64 or XML).", classes="dim")
                yield PasteBox(id="saml-paste")
            yield Static("", id="saml-status")
            roles = OptionList(id="saml-roles")
            roles.display = False
            yield roles
            error = Static(escape(request.last_error or ""), id="saml-error", classes="error")
            error.display = bool(request.last_error)
            yield error
            yield Static("↑↓ pick a role · enter or ctrl+s use it · escape cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        if self.request.need_assertion:
            self.query_one(PasteBox).focus()
            self._show_status(None)
        else:
            self._show_roles()

    # -- reading the paste ---------------------------------------------------------------------------
    def on_paste_box_changed(self, event: PasteBox.Changed) -> None:
        """Read the paste once it stops arriving (typed-in characters come one by one)."""
        event.stop()
        self.reading = True
        if self._parse_timer is not None:
            self._parse_timer.stop()
        self._parse_timer = self.set_timer(0.05, self._parse)

    def _parse(self) -> None:
        self.reading = False
        text = self.query_one(PasteBox).text
        self.assertion = None
        self.roles = ()
        if not text.strip():
            self._show_status(None)
            self._show_roles()
            return
        try:
            self.assertion = decode_assertion(text, profile=self.request.profile)
        except SamlAssertionError as exc:
            self._show_status(exc.text, error=True)
            self._show_roles()
            return
        self.roles = self.assertion.roles
        self._show_status(self._summary(self.assertion))
        self._show_roles()

    def _summary(self, assertion: SamlAssertion) -> str:
        parts = []
        if assertion.encrypted:
            parts.append("encrypted: its roles cannot be read here (role_arn in config.toml is used)")
        else:
            count = len(assertion.roles)
            plural = "s" if count != 1 else ""
            parts.append(f"{count} role{plural} offered" if count else "no AWS role offered")
        if assertion.not_on_or_after is not None:
            left = format_countdown(assertion.not_on_or_after, utcnow())
            parts.append(left if left.startswith("expired") else f"valid for {left}")
        if assertion.issuer:
            parts.append(f"from {assertion.issuer}")
        return " · ".join(parts)

    def _show_status(self, text: str | None, *, error: bool = False) -> None:
        status = self.query_one("#saml-status", Static)
        status.update(escape(text or "Waiting for the paste…"))
        status.set_class(error, "error")

    def _show_roles(self) -> None:
        options = self.query_one("#saml-roles", OptionList)
        options.clear_options()
        configured = self.request.configured_role
        roles = [r for r in self.roles if configured in (None, r.role_arn)]
        options.display = bool(roles)
        if not roles:
            return
        names = self.request.account_names
        options.add_options([Option(escape(describe_role(r, names)), id=str(i)) for i, r in enumerate(roles)])
        remembered = self.request.remembered
        options.highlighted = roles.index(remembered) if remembered in roles else 0
        if not self.request.need_assertion:
            options.focus()

    # -- answering -----------------------------------------------------------------------------------
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        if self.request.need_assertion and self.assertion is None:
            self._error("Paste the SAMLResponse first.")
            return
        role = self._picked()
        if role is None and self.roles and len(self.roles) > 1 and not self.request.configured_role:
            self._error("Pick a role.")
            return
        self.dismiss(SamlAnswer(self.assertion, role))

    def _picked(self) -> SamlRole | None:
        options = self.query_one("#saml-roles", OptionList)
        if not options.display or options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        configured = self.request.configured_role
        roles = [r for r in self.roles if configured in (None, r.role_arn)]
        return roles[int(option.id or 0)]

    def _error(self, message: str) -> None:
        error = self.query_one("#saml-error", Static)
        error.update(escape(message))
        error.display = True

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_saml(
    app: App[Any], request: SamlRequest, *, is_cancelled: Callable[[], bool] = lambda: False
) -> SamlAnswer | None:
    """A SamlPrompt for the engine: shows the modal from a worker thread and waits for the answer."""
    answer: Future[SamlAnswer | None] = Future()

    def show() -> None:
        app.push_screen(SamlScreen(request), answer.set_result)

    app.call_from_thread(show)
    while True:
        try:
            return answer.result(timeout=0.2)
        except FutureTimeout:
            if is_cancelled() or not app.is_running:
                return None

