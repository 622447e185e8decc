"""`C`: who the dashboard is serving: running credential servers, their clients, and pending prompts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from stsdash.timeutil import format_countdown, utcnow

if TYPE_CHECKING:
    from stsdash.broker.ipc import PendingPrompt
    from stsdash.broker.status import ServerStatus
    from stsdash.ui.app import StsdashApp

COLUMNS = ("what", "profile", "caller", "state")


class CallersScreen(ModalScreen[None]):
    """A live table: one row per server client and per caller waiting for an MFA code."""

    DEFAULT_CSS = """
    CallersScreen { align: center middle; background: $background; }
    #callers-dialog { width: 120; }
    #callers-table { height: auto; max-height: 20; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,C", "close", "Close")]
    app: StsdashApp

    def compose(self) -> ComposeResult:
        with Vertical(id="callers-dialog", classes="dialog"):
            yield Label("Callers", classes="dialog-title")
            yield DataTable(id="callers-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="callers-empty", classes="dim")
            yield Static("Servers: `stsdash serve` / `stsdash exec --server`. Prompts: callers with no "
                         "terminal (credential_process, servers) asking for a code. escape close",
                         classes="dialog-hint")

    def on_mount(self) -> None:
        dialog = self.query_one("#callers-dialog")
        dialog.styles.width = 120  # wider than the shared .dialog rule: four columns of names
        dialog.styles.max_width = "100%"
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        link = self.app.broker_link
        if link is not None:
            self.show(link.servers, link.prompts)
        else:
            self.show([], [])

    def show(self, servers: list[ServerStatus], prompts: list[PendingPrompt]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        rows = caller_rows(servers, prompts)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # data, never markup
        empty = self.query_one("#callers-empty", Static)
        empty.update("" if rows else "Nobody is being served: no server runs and no prompt is pending.")
        empty.display = not rows

    def action_close(self) -> None:
        self.dismiss(None)


def caller_rows(servers: list[ServerStatus], prompts: list[PendingPrompt]) -> list[tuple[str, ...]]:
    """Plain-text rows: pending prompts first (they wait on the user), then servers and their clients."""
    now, wall = utcnow(), time.time()
    rows: list[tuple[str, ...]] = []
    for prompt in prompts:
        who = f"{prompt.caller}" if prompt.pid is None else f"{prompt.caller} [pid {prompt.pid}]"
        waiting = int(wall - prompt.since)
        if prompt.kind == "SSO login":
            rows.append(("SSO login", ", ".join(prompt.profiles), who,
                         f"waiting {waiting} s for a login to {prompt.serial}"))
        else:
            rows.append(("MFA prompt", ", ".join(prompt.profiles), who,
                         f"waiting {waiting} s for a code for {prompt.serial}"))
    for server in servers:
        left = format_countdown(server.expires_at, now) if server.expires_at else "no expiry"
        state = f"error: {server.error}" if server.error else f"credentials {left}"
        rows.append((f"server pid {server.pid}", server.profile, server.command, state))
        for client in server.clients:
            seen = int(wall - client.last_seen)
            refused = f", {client.refused} refused" if client.refused else ""
            plural = "" if client.requests == 1 else "s"
            rows.append(("  client", server.profile, client.agent,
                         f"{client.requests} request{plural}{refused}, last {seen} s ago"))
    return [tuple(_printable(cell) for cell in row) for row in rows]



def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)
