"""Small modals for the everyday verbs: a list picker (copy format, region), the decode paste box, and
the details of a profile with long-term keys (with the account GetAccessKeyInfo names)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from stsdash.ui.screens.details import DetailsScreen


class PickerScreen(ModalScreen[str | None]):
    """Pick one of `choices` ((id, label) pairs; id None = a separator line). Dismisses with the id."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen OptionList { height: auto; max-height: 20; border: none; }
    """

    def __init__(self, title: str, choices: Sequence[tuple[str | None, str]], *, hint: str = "",
                 selected: str | None = None, dialog_id: str = "picker-dialog") -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.hint = hint
        self.selected = selected
        self.dialog_id = dialog_id

    def compose(self) -> ComposeResult:
        options: list[Option | None] = []
        for choice_id, label in self.choices:
            if choice_id is None:
                options.append(Option(escape(label), disabled=True))
            else:
                options.append(Option(escape(label), id=choice_id))
        with Vertical(id=self.dialog_id, classes="dialog"):
            yield Label(escape(self.title_text), classes="dialog-title")
            yield OptionList(*options, id="picker-options")
            if self.hint:
                yield Static(escape(self.hint), classes="dim")
            yield Static("↑↓ choose · enter pick · escape cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        ids = [choice_id for choice_id, _ in self.choices]
        if self.selected in ids:
            options.highlighted = ids.index(self.selected)
        else:
            options.highlighted = next((n for n, cid in enumerate(ids) if cid is not None), 0)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DecodeScreen(ModalScreen[None]):
    """Paste an encoded authorization failure message; ctrl+s decodes it with `decode(text)`.

    `decode` runs in a thread worker (it calls STS, maybe after an MFA prompt) and returns the text to
    show, already made printable; an exception's message is shown instead.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close"),
        Binding("ctrl+s", "decode", "Decode"),
    ]
    DEFAULT_CSS = """
    DecodeScreen { align: center middle; }
    #decode-dialog { width: 100; }
    #decode-input { height: 6; }
    #decode-output { height: auto; max-height: 20; }
    """

    def __init__(self, profile: str, decode: Callable[[str], str]) -> None:
        super().__init__()
        self.profile = profile
        self.decode = decode

    def compose(self) -> ComposeResult:
        with Vertical(id="decode-dialog", classes="dialog"):
            yield Label(f"Decode an authorization failure ({escape(self.profile)})", classes="dialog-title")
            yield TextArea(id="decode-input", soft_wrap=True)
            with VerticalScroll(id="decode-output"):
                yield Static("Paste the error text or the encoded message, then press ctrl+s.",
                             id="decode-result", markup=False)
            yield Static("ctrl+s decode · escape close", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_decode(self) -> None:
        text = self.query_one(TextArea).text
        self.query_one("#decode-result", Static).update("decoding…")
        self._decode_worker(text)

    @work(thread=True, exclusive=True, group="decode", exit_on_error=False)
    def _decode_worker(self, text: str) -> None:
        try:
            result = self.decode(text)
        except Exception as exc:  # shown to the user, like every worker error
            result = "".join(c if c.isprintable() or c == "\n" else "?" for c in f"Could not decode: {exc}")
        self.app.call_from_thread(self.query_one("#decode-result", Static).update, result)

    def action_cancel(self) -> None:
        self.dismiss(None)


class KeyDetailsScreen(DetailsScreen):
    """Details of a profile with long-term keys, plus the account they belong to (GetAccessKeyInfo).

    `lookup` runs in a thread worker (cached answers return at once); its result, or why it failed,
    replaces the "looking up…" line.
    """

    def __init__(self, title: str, sections: list[tuple[str, list[tuple[str, str]]]],
                 lookup: Callable[[], str]) -> None:
        super().__init__(title, sections)
        self.lookup = lookup

    def on_mount(self) -> None:
        dialog = self.query_one("#details-dialog")
        hint = dialog.query(".dialog-hint").last()
        dialog.mount(Label("Long-term key", classes="details-heading"), before=hint)
        dialog.mount(Static(self._row("looking up with GetAccessKeyInfo…"), id="key-account",
                            classes="details-row"), before=hint)
        self._lookup_worker()

    @staticmethod
    def _row(value: str) -> str:
        return f"[b]{'key account':>13}[/b]  {escape(value)}"

    @work(thread=True, group="key-account", exit_on_error=False)
    def _lookup_worker(self) -> None:
        try:
            value = self.lookup()
        except Exception as exc:
            value = "".join(c if c.isprintable() else "?" for c in f"unknown: {exc}")
        self.app.call_from_thread(self.query_one("#key-account", Static).update, self._row(value))
