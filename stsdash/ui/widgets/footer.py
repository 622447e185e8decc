"""The key-hint footer: rebuilt once per burst of binding changes, and narrow-screen aware.

At 80 columns the stock footer runs out of room and cuts the last keys, `?` and `q` among them. Below
WIDE columns the keys in OPTIONAL are left out of the footer (they still work, and `?` lists them).
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
WIDE = 100
OPTIONAL = frozenset({"refresh_stale", "whoami", "copy"})


class SettlingFooter(Footer):
    """A Footer that waits for bindings to settle before recomposing its keys."""

    _pending = False

    def compose(self) -> ComposeResult:
        narrow = self.app.size.width < WIDE
        shown = 0
        for widget in super().compose():
            if narrow and getattr(widget, "action", None) in OPTIONAL:
                continue
            shown += 1
            yield widget
        if shown:
            self.styles.grid_size_columns = shown

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
