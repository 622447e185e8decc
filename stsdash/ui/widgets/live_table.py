"""A DataTable that diffs keyed rows: only cells whose text or style changed are sent to update_cell.

DataTable keys its cell render cache on a table-wide update counter, so one `update_cell` makes every
visible cell render again (hundreds of milliseconds for a full screen of rows on a slow machine, every
second while countdowns tick). LiveTable keys that cache on a per-cell version instead: a tick re-renders
the few cells that changed and re-assembles lines from cached cells.

Rows off screen are updated lazily: `sync` keeps their newest cells aside and `refresh_visible` (the 1 Hz
tick, a scroll, a resize) pushes cells only for the rows in view, so the work per tick does not grow with
the number of rows. Reading a cell (`get_cell`, `get_row`) brings that row up to date first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets._data_table import Row as _TableRow
from textual.widgets.data_table import ColumnKey, RowKey

from stsdash.ui.rows import Cell

Row = tuple[str, Mapping[str, Cell]]


class LiveTable(DataTable):
    """Rows keyed by name; `sync` rebuilds only when the set or order of rows changed."""

    def __init__(self, columns: Sequence[tuple[str, str, int | None]], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, fixed_columns=1, **kwargs)
        self._column_spec = columns
        self._keys: list[str] = []
        self._cells: dict[str, dict[str, Cell]] = {}
        self.styles_map: dict[str, str] = {}
        self._versions: dict[tuple[str, str], int] = {}  # (row, column) -> version of its content
        self._row_versions: dict[str, int] = {}  # row -> version of its newest cell
        self._counter = itertools.count(1)
        self._component_cache: dict[tuple, _FixedRichStyle] = {}
        self._generation = 0  # bumped on rebuild: no cached cell outlives the rows it was drawn for
        self._drawing = False
        self._pending: dict[str, Mapping[str, Cell]] = {}  # newest cells of rows not in view
        # The cells that change with the clock (countdowns, spinners) of one row, asked for rows in view.
        self.live_cells: Callable[[str], Mapping[str, Cell]] | None = None

    def on_mount(self) -> None:
        for key, label, width in self._column_spec:
            self.add_column(label, key=key, width=width)

    @property
    def selected_key(self) -> str | None:
        if not self._keys or self.cursor_row < 0 or self.cursor_row >= len(self._keys):
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value

    def _text(self, cell: Cell) -> CellText:
        text, style = cell
        return CellText(text, self.styles_map.get(style, ""))

    def sync(self, rows: Sequence[Row], *, force: bool = False) -> int:
        """Bring the table up to date. Returns how many cells were updated (0 on an idle tick)."""
        keys = [key for key, _ in rows]
        if keys != self._keys:
            self._rebuild(rows)
            return sum(len(cells) for _, cells in rows)
        if force:
            self._pending.clear()
            changed = 0
            for key, cells in rows:
                cached = self._cells[key]
                for column, cell in cells.items():
                    cached[column] = cell
                    self.update_cell(key, column, self._text(cell))
                    changed += 1
            return changed
        start, stop = self._visible_span()
        pending = self._pending
        changed = 0
        for index, (key, cells) in enumerate(rows):
            if start <= index < stop:
                pending.pop(key, None)
                changed += self.sync_row(key, cells)
            else:
                pending[key] = cells
        return changed

    def _visible_span(self) -> tuple[int, int]:
        """Indexes of the rows on screen (every row is one line high), with one spare row each side."""
        height = self.size.height - (self.header_height if self.show_header else 0)
        if height <= 0:
            return (0, 0)
        first = int(self.scroll_y)
        return (max(0, first - 1), first + height + 1)

    def visible_keys(self) -> list[str]:
        start, stop = self._visible_span()
        return self._keys[start:stop]

    def refresh_visible(self) -> int:
        """Bring the rows in view up to date: cells kept aside, then the live cells. Returns cells updated."""
        changed = 0
        for key in self.visible_keys():
            changed += self._freshen(key)
        return changed

    def _freshen(self, key: str) -> int:
        if self._drawing:  # the stock renderer reads rows through get_row: never update mid-draw
            return 0
        changed = 0
        cells = self._pending.pop(key, None)
        if cells is not None:
            changed += self.sync_row(key, cells)
        if self.live_cells is not None and key in self._cells:
            changed += self.sync_row(key, self.live_cells(key))
        return changed

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.refresh_visible()

    def _on_resize(self, event) -> None:
        super()._on_resize(event)
        self.refresh_visible()

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str):
        self._freshen(row_key.value if isinstance(row_key, RowKey) else row_key)
        return super().get_cell(row_key, column_key)

    def get_row(self, row_key: RowKey | str):
        self._freshen(row_key.value if isinstance(row_key, RowKey) else row_key)
        return super().get_row(row_key)

    def update_cell(self, row_key: RowKey | str, column_key: ColumnKey | str, value: object, *,
                    update_width: bool = False) -> None:
        super().update_cell(row_key, column_key, value, update_width=update_width)
        row = row_key.value if isinstance(row_key, RowKey) else row_key
        column = column_key.value if isinstance(column_key, ColumnKey) else column_key
        version = next(self._counter)
        self._versions[(row, column)] = version
        self._row_versions[row] = version

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False):
        if row_index < 0 or column_index < 0:  # header and labels: the stock cache is right for them
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row = self._row_locations.get_key(row_index).value
        column = self._column_locations.get_key(column_index).value
        table_wide = self._update_count
        # Only the cell cache key reads _update_count inside _render_cell (textual 8.2); swap in a
        # per-cell key for the duration of the call. Width is in it since the stock key lacks it.
        self._update_count = (self._versions.get((row, column), 0), width, self._generation)
        try:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        finally:
            self._update_count = table_wide

    def _render_line_in_row(self, row_key: RowKey, line_no: int, base_style: Style, cursor_location,
                            hover_location):
        # Same idea one level up: a row whose cells did not change comes from the row cache. Column
        # widths and the widget width go into the key because the table-wide counter no longer does.
        table_wide = self._update_count
        widths = tuple(column.get_render_width(self) for column in self.ordered_columns)
        self._update_count = (
            self._row_versions.get(row_key.value, 0) if row_key.value is not None else 0,
            self._generation,
            self.size.width,
            widths,
        )
        self._drawing = True
        try:
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location,
                                               hover_location)
        finally:
            self._update_count = table_wide
            self._drawing = False

    def get_component_styles(self, *names: str):
        # DataTable asks for `.rich_style` of its component classes on every line it draws, and each
        # answer walks the DOM for background colours. Keep the answers until the styles change.
        styles = super().get_component_styles(*names)
        key = (names, self._pseudo_class_state, self.app.theme)
        cached = self._component_cache.get(key)
        if cached is None:
            cached = self._component_cache[key] = _FixedRichStyle(styles, styles.rich_style)
        return cached

    def notify_style_update(self) -> None:
        self._component_cache.clear()
        super().notify_style_update()

    def sync_row(self, key: str, cells: Mapping[str, Cell]) -> int:
        """Update one row already shown (a refresh result); 0 if the row is not in the table."""
        cached = self._cells.get(key)
        if cached is None:
            return 0
        self._pending.pop(key, None)  # these cells are newer than any kept aside
        changed = 0
        for column, cell in cells.items():
            if cached.get(column) != cell:
                cached[column] = cell
                self.update_cell(key, column, self._text(cell))
                changed += 1
        return changed

    def _rebuild(self, rows: Sequence[Row]) -> None:
        """Replace every row in one pass.

        `add_row` per row sets the cursor reactive and queues the row for measuring, which for thousands
        of rows costs seconds (every cell goes through Rich's measure). Here the rows go in directly and
        the column widths come from the plain text: one line of text is as wide as its cells.
        """
        selected = self.selected_key
        self.clear()
        self._generation += 1
        self._versions.clear()
        self._row_versions.clear()
        self._pending.clear()
        self._keys = [key for key, _ in rows]
        self._cells = {key: dict(cells) for key, cells in rows}
        if len(self._cells) != len(self._keys):
            raise ValueError("duplicate row keys")
        ordered = self.ordered_columns
        specs = [(column.key, column.key.value) for column in ordered]
        widths = [column.content_width for column in ordered]
        locations, data, meta = self._row_locations, self._data, self.rows
        blank: Cell = ("", "")
        text = self._text
        for index, (key, cells) in enumerate(rows):
            row_key = RowKey(key)
            locations[row_key] = index
            row_data = {}
            for position, (column_key, column) in enumerate(specs):
                cell = cells.get(column, blank)
                row_data[column_key] = text(cell)
                width = cell_len(cell[0])
                if width > widths[position]:
                    widths[position] = width
            data[row_key] = row_data
            meta[row_key] = _TableRow(row_key, 1, None, False)
        for column, width in zip(ordered, widths, strict=True):
            column.content_width = width
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate  # clamp to the new rows
        if rows and ordered and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self.check_idle()
        self.refresh()
        if selected in self._cells:
            self.move_cursor(row=self._keys.index(selected), animate=False)


class CellText:
    """What the table holds for a cell: its text and style, made into a Rich `Text` only when drawn.

    Thousands of rows hold tens of thousands of cells; a full `Text` each costs time at launch and
    memory for as long as the table lives, while only the rows on screen are ever drawn.
    """

    __slots__ = ("plain", "style")

    def __init__(self, plain: str, style: str) -> None:
        self.plain = plain
        self.style = style

    def __rich__(self) -> Text:
        return Text(self.plain, style=self.style, no_wrap=True, overflow="ellipsis")

    def __str__(self) -> str:
        return self.plain

    def __repr__(self) -> str:
        return f"CellText({self.plain!r}, {self.style!r})"


class _FixedRichStyle:
    """Component styles with `rich_style` computed once; everything else is read through."""

    def __init__(self, styles, rich_style: Style) -> None:
        self._styles = styles
        self.rich_style = rich_style

    def __getattr__(self, name: str):
        return getattr(self._styles, name)
