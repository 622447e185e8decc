"""The key-hint footer, rebuilt once per burst of binding changes instead of once per change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen

# Focus moves, tab switches and the first load each announce new bindings while the dashboard starts;
# the stock footer remounts every key for each of them (tens of milliseconds each). Changes that arrive
# within this window are shown together, which no one can see.
SETTLE_SECONDS = 0.1


class SettlingFooter(Footer):
    """A Footer that waits for bindings to settle before recomposing its keys."""

    _pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.set_timer(SETTLE_SECONDS, self._recompose_settled)

    async def _recompose_settled(self) -> None:
        self._pending = False
        await self.recompose()
