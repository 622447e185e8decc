"""A table of keyed rows with live cells, drawn line by line on Textual's public Line API.

Built on `ScrollView.render_line` and `Strip` only. The table holds the row keys, not the rows: a cell
provider (`cells_for`) is asked for the cells of a row when that row is drawn, so 20,000 profiles cost
a list of names until they scroll into view, and only the rows on screen are ever made into segments.

- Columns come from `stsdash.ui.columns.fit`: chosen by priority for the width at hand, never
  scrolled sideways.
- `refresh_visible` (the 1 Hz tick) and `refresh_row` (a refresh result) ask the provider again for
  rows in view and repaint only the screen region of each cell whose text or style changed.
- A drawn line is kept until its row's cells, the cursor, the focus, the width or the styles change.

Keys: up/down/page up/page down/home/end move the cursor, enter (or a double click) selects the row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from stsdash.ui.columns import PADDING, Column, Placed, fit

Cell = tuple[str, str]  # (text, style name: a key of `styles_map`)
CellsFor = Callable[[str], Mapping[str, Cell]]

_BLANK: Cell = ("", "")


class CellValue(NamedTuple):
    """A cell read back from the table: its text (also as `.plain`, like a Rich Text) and style name."""

    text: str
    style: str

    @property
    def plain(self) -> str:
        return self.text


class LiveTable(ScrollView, can_focus=True):
    """Rows keyed by name, cells fetched on demand, one cell repainted per change."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"live-table--header", "live-table--cursor", "live-table--empty"}

    DEFAULT_CSS = """
    LiveTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        height: 1fr;
        & > .live-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .live-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .live-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .live-table--empty { color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Details", tooltip="details: identity, target, source chain, last error"),
    ]

    class RowHighlighted(Message):
        """The cursor moved to another row (or the rows changed under it)."""

        def __init__(self, table: LiveTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LiveTable:
            return self.table

    class RowSelected(Message):
        """Enter or a double click on a row."""

        def __init__(self, table: LiveTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LiveTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, cells_for: CellsFor | None = None,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = tuple(columns)
        self.cells_for: CellsFor = cells_for or (lambda _key: {})
        self.styles_map: dict[str, str] = {}
        self.empty_text = ""  # shown when there are no rows
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._natural: dict[str, int] = {}
        self._cursor = 0
        self._layout: list[Placed] = []
        self._layout_width = -1
        self._shown: dict[str, dict[str, Cell]] = {}  # cells as drawn, rows in view (or just left it)
        self._lines: dict[str, tuple[tuple, Strip]] = {}
        self._header: tuple[tuple, Strip] | None = None
        self._parsed: dict[str, Style] = {}
        self._epoch = 0  # bumped when styles change: no drawn line outlives the styles it was drawn in

    # ---- rows ----------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> list[str]:
        return self._keys

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected_key(self) -> str | None:
        return self._keys[self._cursor] if 0 <= self._cursor < len(self._keys) else None

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def get_cell(self, key: str, column: str) -> CellValue:
        """The cell as the provider says it now (what the next paint shows)."""
        return CellValue(*self.cells_for(key).get(column, _BLANK))

    def set_rows(self, keys: Sequence[str], natural: Mapping[str, int] | None = None) -> None:
        """Show these rows in this order. The cursor stays on its row when that row is still there."""
        selected = self.selected_key
        self._keys = list(keys)
        self._index = {key: index for index, key in enumerate(self._keys)}
        if len(self._index) != len(self._keys):
            raise ValueError("duplicate row keys")
        if natural is not None:
            self._natural = dict(natural)
            self._layout_width = -1
        self._shown.clear()
        self._lines.clear()
        self._cursor = self._index.get(selected, min(self._cursor, max(0, len(self._keys) - 1))) \
            if selected is not None else 0
        self.virtual_size = Size(self._layout_total(), len(self._keys) + 1)
        self._scroll_cursor_into_view()
        self.refresh()
        if self.selected_key != selected:
            self.post_message(self.RowHighlighted(self, self.selected_key))

    def refresh_row(self, key: str) -> int:
        """A row's cells changed (a refresh result): repaint what changed if it is in view."""
        index = self._index.get(key)
        if index is None:
            return 0
        if not self._in_view(index):
            self._shown.pop(key, None)
            self._lines.pop(key, None)
            return 0
        return self._diff(key, index)

    def refresh_visible(self) -> int:
        """Ask the provider again for every row in view; repaint only cells that changed."""
        start, stop = self._view()
        changed = 0
        for index in range(start, stop):
            changed += self._diff(self._keys[index], index)
        return changed

    def _diff(self, key: str, index: int) -> int:
        new = dict(self.cells_for(key))
        old = self._shown.get(key)
        self._shown[key] = new
        if old is None:
            self._lines.pop(key, None)
            self._refresh_line(index)
            return len(new)
        changed = [column for column, cell in new.items() if old.get(column) != cell]
        if changed:
            self._lines.pop(key, None)
            y = index - int(self.scroll_y) + 1
            for placed in self.column_layout():
                if placed.key in changed:
                    self.refresh(Region(placed.x, y, placed.span, 1))
        return len(changed)

    # ---- what is in view ---------------------------------------------------------------------------
    def _view(self) -> tuple[int, int]:
        first = int(self.scroll_y)
        rows = max(0, self.size.height - 1)
        return first, min(len(self._keys), first + rows)

    def _in_view(self, index: int) -> bool:
        start, stop = self._view()
        return start <= index < stop

    def visible_keys(self) -> list[str]:
        start, stop = self._view()
        return self._keys[start:stop]

    def _refresh_line(self, index: int) -> None:
        y = index - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            # Rows that left the view may be stale when they come back: draw them from fresh cells.
            start, stop = self._view()
            for key in [k for k in self._shown if not start <= self._index.get(k, -1) < stop]:
                del self._shown[key]
                self._lines.pop(key, None)

    def on_resize(self, _event: events.Resize) -> None:
        self.virtual_size = Size(self._layout_total(), len(self._keys) + 1)
        self._scroll_cursor_into_view()

    # ---- the cursor ----------------------------------------------------------------------------
    def move_cursor(self, row: int) -> None:
        if not self._keys:
            return
        row = max(0, min(row, len(self._keys) - 1))
        if row == self._cursor:
            return
        old, self._cursor = self._cursor, row
        for index in (old, row):
            if 0 <= index < len(self._keys):
                self._lines.pop(self._keys[index], None)
                self._refresh_line(index)
        self._scroll_cursor_into_view()
        self.post_message(self.RowHighlighted(self, self.selected_key))

    def _scroll_cursor_into_view(self) -> None:
        rows = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + rows:
            self.scroll_to(y=self._cursor - rows + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + max(1, self.size.height - 2))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._keys) - 1)

    def action_select(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._keys):
            self.move_cursor(index)
            if event.chain >= 2:
                self.action_select()

    def on_focus(self, _event: events.Focus) -> None:
        self._cursor_changed_look()

    def on_blur(self, _event: events.Blur) -> None:
        self._cursor_changed_look()

    def _cursor_changed_look(self) -> None:
        key = self.selected_key
        if key is not None:
            self._lines.pop(key, None)
            self._refresh_line(self._cursor)

    # ---- drawing ---------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._epoch += 1
        self._parsed.clear()
        self._lines.clear()
        self._header = None

    def restyle(self, styles_map: dict[str, str]) -> None:
        """New cell styles (a theme change): every line is drawn again."""
        self.styles_map = styles_map
        self._epoch += 1
        self._parsed.clear()
        self._lines.clear()
        self.refresh()

    def _layout_total(self) -> int:
        layout = self.column_layout()
        return layout[-1].x + layout[-1].span if layout else 0

    def column_layout(self) -> list[Placed]:
        width = self.size.width
        if width != self._layout_width:
            self._layout = fit(self.columns, self._natural, width)
            self._layout_width = width
            self._lines.clear()
            self._header = None
        return self._layout

    def shown_columns(self) -> list[str]:
        return [placed.key for placed in self.column_layout()]

    def _style(self, name: str) -> Style:
        style = self._parsed.get(name)
        if style is None:
            spec = self.styles_map.get(name, "")
            style = self._parsed[name] = Style.parse(spec) if spec else Style()
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        layout = self.column_layout()
        base = self.rich_style
        if y == 0:
            return self._header_line(layout, width)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._keys):
            if not self._keys and y == 2 and self.empty_text:
                return self._text_line(self.empty_text, width, base + self.get_component_rich_style(
                    "live-table--empty", partial=True))
            return Strip.blank(width, base)
        key = self._keys[index]
        cursor = index == self._cursor
        stamp = (width, cursor, self.has_focus and cursor, self._epoch)
        cached = self._lines.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        cells = self._shown.get(key)
        if cells is None:
            cells = self._shown[key] = dict(self.cells_for(key))
        if cursor:
            base = base + self.get_component_rich_style("live-table--cursor", partial=True)
        strip = self._row_line(layout, cells, width, base, cursor)
        self._lines[key] = (stamp, strip)
        return strip

    def _row_line(self, layout: list[Placed], cells: Mapping[str, Cell], width: int, base: Style,
                  cursor: bool) -> Strip:
        segments = []
        x = 0
        for placed in layout:
            text, style_name = cells.get(placed.key, _BLANK)
            style = base + self._style(style_name) if style_name else base
            if cursor and style_name:
                # The cursor's colours win over the cell's (readable on every theme); bold/dim stay.
                style = style + self.get_component_rich_style("live-table--cursor", partial=True)
            segments.append(Segment(_padded(text, placed.width), style))
            x += placed.span
        if x < width:
            segments.append(Segment(" " * (width - x), base))
        return Strip(segments, max(width, x)).crop(0, width)

    def _header_line(self, layout: list[Placed], width: int) -> Strip:
        stamp = (width, self._epoch)
        if self._header is not None and self._header[0] == stamp:
            return self._header[1]
        style = self.rich_style + self.get_component_rich_style("live-table--header", partial=True)
        cells = {placed.key: (placed.label, "") for placed in layout}
        strip = self._row_line(layout, cells, width, style, False)
        self._header = (stamp, strip)
        return strip

    @staticmethod
    def _text_line(text: str, width: int, style: Style) -> Strip:
        return Strip([Segment(_padded(text, max(0, width - 2 * PADDING)), style)], width).crop(0, width)


def _padded(text: str, width: int) -> str:
    """The text in `width` cells (cut with an ellipsis when longer), with the padding either side."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else "?" for ch in text)
    length = len(text) if text.isascii() else cell_len(text)
    if length > width:
        text = set_cell_size(text, width - 1) + "…" if width > 1 else "…"[:width]
        length = cell_len(text)
    pad = " " * PADDING
    return pad + text + " " * (width - length) + pad
