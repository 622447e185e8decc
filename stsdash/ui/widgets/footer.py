"""The key-hint footer: rebuilt once per burst of binding changes, and sized to the terminal.

At 80 columns the stock footer runs out of room and cuts the last keys, `?` and `q` among them. Here
the keys in OPTIONAL are left out, last first, until the rest fit (they still work; `?` lists them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.screen import Screen

# Focus moves, tab switches and the first load each announce new bindings while the dashboard starts;
# the stock footer remounts every key for each of them (tens of milliseconds each). Changes that arrive
# within this window are shown together, which no one can see.
SETTLE_SECONDS = 0.1
# Left out first to last when the footer is too narrow for every key.
OPTIONAL = ("region", "console", "whoami", "refresh_stale", "copy")
PALETTE_WIDTH = 12  # the `^p palette` key docked at the right


class SettlingFooter(Footer):
    """A Footer that waits for bindings to settle before recomposing its keys."""

    _pending = False

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        room = self.app.size.width - PALETTE_WIDTH
        for action in OPTIONAL:
            if sum(_width(widget) for widget in widgets) <= room:
                break
            widgets = [w for w in widgets if getattr(w, "action", None) != action]
        self.styles.grid_size_columns = max(1, len(widgets))
        yield from widgets

    def bindings_changed(self, screen: Screen) -> None:
        if not self._pending:
            self._pending = True
            self.set_timer(SETTLE_SECONDS, lambda: self._settled(screen))

    def _settled(self, screen: Screen) -> None:
        self._pending = False
        super().bindings_changed(screen)

    def on_resize(self) -> None:
        if self.is_attached:
            self.bindings_changed(self.screen)


def _width(widget: object) -> int:
    """Cells a footer key takes: ` key ` and `description `."""
    key, description = getattr(widget, "key_display", ""), getattr(widget, "description", "")
    if "-command-palette" in getattr(widget, "classes", frozenset()):
        return 0  # docked on its own at the right, counted in PALETTE_WIDTH
    return len(key) + 2 + (len(description) + 1 if description else 0)
