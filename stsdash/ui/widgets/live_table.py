"""A DataTable that diffs keyed rows and draws a ticking countdown for the price of one cell.

Stock DataTable keys every render cache on one table-wide update counter, so a single `update_cell`
throws away every cached line and cell and repaints the whole widget. With 1,000 countdowns ticking,
that meant re-running Rich layout for every visible cell once a second.

LiveTable draws body rows itself (the header still goes through the stock code):

- every cell carries its own version; `update_cell` bumps it and marks only that cell's screen region
  dirty, so the compositor repaints the changed cells and not the whole table;
- a drawn cell is cached by (version, width, cursor/hover state, styles), and a drawn line by its row's
  version and the same state, so a tick re-renders only the cells whose text changed;
- a plain cell (`CellText`: one style, one line, printable text) is turned into segments directly,
  exactly as Rich would lay it out, instead of going through Rich's Padding/Styled/Text pipeline.

The output is the stock renderer's, segment for segment after simplification: the same cell styles,
padding, ellipsis, cursor and hover highlighting, fixed column and the filler to the right edge.

Rows off screen are updated lazily: `sync` keeps their newest cells aside and `refresh_visible` (the 1 Hz
tick, a scroll, a resize) pushes cells only for the rows in view, so the work per tick does not grow with
the number of rows. Reading a cell (`get_cell`, `get_row`) brings that row up to date first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._segment_tools import line_crop
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.renderables.styled import Styled
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import Row as _TableRow
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

from stsdash.ui.rows import Cell

Row = tuple[str, Mapping[str, Cell]]

# Drawn cells and lines are kept for rows seen recently; past these sizes the caches start over (a few
# megabytes at most, and only after scrolling through thousands of rows).
_MAX_CACHED_CELLS = 40_000
_MAX_CACHED_LINES = 4_000

_EMPTY_TEXT = Text(no_wrap=True, end="")


class _Pass(NamedTuple):
    """What every line of one paint shares, worked out once per paint rather than once per line."""

    fast: bool  # False: an option LiveTable does not draw itself (row labels, fixed rows, cell cursor)
    header: int  # lines taken by the header
    scroll_x: int
    scroll_y: int
    width: int
    base_style: Style
    fixed_style: Style
    columns: tuple[tuple[ColumnKey, str], ...]  # (key, key.value) in screen order
    widths: tuple[int, ...]  # render width of each column, padding included
    fixed_count: int
    fixed_width: int
    filler: int  # blank cells to the right of the last column
    cursor_row: int | None  # row index highlighted by the cursor, None if no cursor is shown
    hover_row: int | None
    key: tuple  # everything else a drawn line depends on (focus, theme epoch, cursor options, widths)


class LiveTable(DataTable):
    """Rows keyed by name; `sync` rebuilds only when the set or order of rows changed."""

    def __init__(self, columns: Sequence[tuple[str, str, int | None]], **kwargs) -> None:
        # The drawing caches first: DataTable's constructor sets reactives whose watchers clear them.
        self._cell_cache: dict[tuple, tuple[tuple, list[Segment]]] = {}
        self._line_cache_fast: dict[str | None, tuple[tuple, Strip]] = {}
        self._filler_cache: dict[tuple, Segment] = {}
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
        self._epoch = 0  # bumped when styles change: no cached cell outlives the styles it was drawn in
        self._drawing = False
        self._pass: _Pass | None = None
        self._in_paint = False
        self._spans: list[tuple[int, int]] = []
        self._spans_key: tuple | None = None
        self._text_styles: dict[str, Style] = {}
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

    # ---- keeping the rows up to date ------------------------------------------------------------
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
        """Replace one cell and repaint only where it is on screen.

        The stock version bumps the table-wide counter (every cached line and cell goes stale) and
        repaints the whole widget; here only the cell's own version moves.
        """
        if update_width or not self._draws_body():
            super().update_cell(row_key, column_key, value, update_width=update_width)
        else:
            row_key = RowKey(row_key) if isinstance(row_key, str) else row_key
            column_key = ColumnKey(column_key) if isinstance(column_key, str) else column_key
            row_index = self._row_locations.get(row_key)
            column_index = self._column_locations.get(column_key)
            if row_index is None or column_index is None:
                raise CellDoesNotExist(f"No cell exists for row_key={row_key!r}, column_key={column_key!r}.")
            self._data[row_key][column_key] = value
            self._refresh_cell(row_index, column_index)
        version = next(self._counter)
        row = row_key.value if isinstance(row_key, RowKey) else row_key
        column = column_key.value if isinstance(column_key, ColumnKey) else column_key
        self._versions[(row, column)] = version
        self._row_versions[row] = version

    def _refresh_cell(self, row_index: int, column_index: int) -> None:
        """Mark the screen region of one cell dirty, if it is on screen (rows are one line high)."""
        width, height = self.size
        scroll_x, scroll_y = self.scroll_offset
        header = self.header_height if self.show_header else 0
        y = header + row_index - scroll_y
        if y < header or y >= height:
            return
        x, cell_width = self._column_spans()[column_index]
        if column_index >= self.fixed_columns:
            x -= scroll_x
        region = Region(x, y, cell_width, 1).intersection(Region(0, 0, width, height))
        if region:
            self.refresh(region)

    def _column_spans(self) -> list[tuple[int, int]]:
        """(x, width) of every column in table coordinates; column widths move only with the table-wide
        counter (rows rebuilt, columns added or re-measured, a resize)."""
        key = (self._update_count, self.cell_padding, len(self.columns))
        if self._spans_key != key:
            spans, x = [], 0
            for column in self.ordered_columns:
                width = column.get_render_width(self)
                spans.append((x, width))
                x += width
            self._spans, self._spans_key = spans, key
        return self._spans

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
        self._forget_drawn()
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
                plain = cell[0]
                # Printable ASCII is as wide as it is long; only other text needs Rich's width table.
                width = len(plain) if plain.isascii() and plain.isprintable() else cell_len(plain)
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

    # ---- drawing ----------------------------------------------------------------------------------
    def _draws_body(self) -> bool:
        """Whether LiveTable draws the body rows itself; other options fall back to the stock code."""
        return (self.cursor_type == "row" and not self.fixed_rows
                and not self._should_render_row_labels)

    def _forget_drawn(self) -> None:
        self._cell_cache.clear()
        self._line_cache_fast.clear()
        self._filler_cache.clear()

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._forget_drawn()

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
        self._text_styles.clear()
        self._epoch += 1
        self._forget_drawn()
        super().notify_style_update()

    def render_lines(self, crop: Region) -> list[Strip]:
        self._in_paint = True  # the first line of this paint works out what the others share
        try:
            return super().render_lines(crop)
        finally:
            self._in_paint = False
            self._pass = None

    def _paint(self) -> _Pass:
        """This paint's shared values (kept only while a paint is under way: state moves between)."""
        paint = self._pass
        if paint is None:
            paint = self._compute_pass()
            if self._in_paint:
                self._pass = paint
        return paint

    def _compute_pass(self) -> _Pass:
        self._pseudo_class_state = self.get_pseudo_class_state()
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        columns = self.ordered_columns
        widths = tuple(column.get_render_width(self) for column in columns)
        fixed_count = self.fixed_columns
        cursor_shown = self.show_cursor and self.cursor_type == "row"
        fixed_style = self.get_component_styles("datatable--fixed").rich_style
        fixed_style += Style.from_meta({"fixed": True})
        return _Pass(
            fast=self._draws_body(),
            header=self.header_height if self.show_header else 0,
            scroll_x=scroll_x,
            scroll_y=scroll_y,
            width=width,
            base_style=self.rich_style,
            fixed_style=fixed_style,
            columns=tuple((column.key, column.key.value) for column in columns),
            widths=widths,
            fixed_count=fixed_count,
            fixed_width=sum(widths[:fixed_count]),
            filler=max(0, width - sum(widths[fixed_count:]) - self._row_label_column_width),
            cursor_row=self.cursor_coordinate.row if cursor_shown else None,
            hover_row=self.hover_coordinate.row,
            key=(width, widths, self._pseudo_class_state, self.show_cursor, self._show_hover_cursor,
                 self._epoch, self._generation, self.cell_padding, self.cursor_foreground_priority,
                 self.cursor_background_priority),
        )

    def render_line(self, y: int) -> Strip:
        paint = self._paint()
        if not paint.fast:
            return super().render_line(y)
        if y >= paint.header:
            y += paint.scroll_y
        return self._render_line(y, paint.scroll_x, paint.scroll_x + paint.width, paint.base_style)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        paint = self._paint()
        if not paint.fast or y < paint.header:
            self._drawing = True
            try:
                return super()._render_line(y, x1, x2, base_style)
            finally:
                self._drawing = False
        index = y - paint.header
        width = paint.width
        row_key = self._row_locations.get_key(index)
        if row_key is None:
            return Strip.blank(width, base_style)
        key = row_key.value
        cursor = paint.cursor_row == index
        hover = paint.hover_row == index
        # Styles compare by hash in Rich, so their hashes stand in for them in the cache stamps.
        stamp = (self._row_versions.get(key, 0), index, x1, x2, hash(base_style), cursor, hover, paint.key)
        cached = self._line_cache_fast.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]

        row_style = self._get_row_style(index, base_style)
        data = self._data[row_key]
        fixed: list[Segment] = []
        for column_index in range(paint.fixed_count):
            fixed.extend(self._drawn_cell(key, data, index, column_index, paint, paint.fixed_style,
                                          cursor, hover, "fixed"))
        scrollable: list[Segment] = []
        for column_index in range(len(paint.columns)):
            scrollable.extend(self._drawn_cell(key, data, index, column_index, paint, row_style,
                                               cursor, hover, "body"))
        scrollable.append(self._filler(index, row_style, cursor, hover, paint.filler))
        segments = list(Segment.simplify(fixed + line_crop(scrollable, x1 + paint.fixed_width, x2, width)))
        # The stock `Strip(...).adjust_cell_length(width).simplify()`, without two throwaway Strips when
        # the line is already as wide as the widget (the usual case: the filler pads it to the edge).
        length = sum([cell_len(segment.text) for segment in segments])
        strip = Strip(segments, length)
        if length != width:
            strip = strip.adjust_cell_length(width, base_style).simplify()

        lines = self._line_cache_fast
        if len(lines) >= _MAX_CACHED_LINES:
            lines.clear()
        lines[key] = (stamp, strip)
        return strip

    def _filler(self, index: int, row_style: Style, cursor: bool, hover: bool, width: int) -> Segment:
        """The blank run from the last column to the right edge, highlighted with the row (stock rule)."""
        key = (index, hash(row_style), cursor, hover, width, self.show_cursor, self._show_hover_cursor)
        cached = self._filler_cache.get(key)
        if cached is not None:
            return cached
        extend_style, _ = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor, False, False)
        extend_style = row_style + extend_style
        extend_style += Style.from_meta({"row": index, "column": 0, "out_of_bounds": True})
        if len(self._filler_cache) >= _MAX_CACHED_LINES:
            self._filler_cache.clear()
        segment = self._filler_cache[key] = Segment(" " * width, extend_style)
        return segment

    def _drawn_cell(self, key: str | None, data: dict, index: int, column_index: int, paint: _Pass,
                    style: Style, cursor: bool, hover: bool, part: str) -> list[Segment]:
        """One line of one cell, from the cache unless its content, size or highlight changed."""
        column_key, column = paint.columns[column_index]
        width = paint.widths[column_index]
        stamp = (self._versions.get((key, column), 0), index, width, hash(style), cursor, hover, paint.key)
        cache_key = (key, column_index, part)
        cached = self._cell_cache.get(cache_key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        segments = self._draw_cell(data.get(column_key), index, column_index, paint, style, width,
                                   cursor, hover)
        cells = self._cell_cache
        if len(cells) >= _MAX_CACHED_CELLS:
            cells.clear()
        cells[cache_key] = (stamp, segments)
        return segments

    def _draw_cell(self, value: object, index: int, column_index: int, paint: _Pass, style: Style,
                   width: int, cursor: bool, hover: bool) -> list[Segment]:
        """The stock DataTable cell renderer for a one-line body cell, with a direct path for CellText."""
        base_style = style + Style.from_meta({"row": index, "column": column_index})
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            column_index < paint.fixed_count,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + component_style
        if isinstance(value, CellText):
            segments = self._plain_cell(value, pre_style, post_style, width)
            if segments is not None:
                return segments
        if value is None:
            renderable = _EMPTY_TEXT
        else:
            renderable = default_cell_formatter(value, wrap=False, height=1) or _EMPTY_TEXT
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
        lines = self.app.console.render_lines(
            Styled(Padding(renderable, (0, self.cell_padding)), pre_style=pre_style, post_style=post_style),
            options,
        )
        return list(Segment.simplify(lines[0])) if lines else []

    def _plain_cell(self, value: CellText, pre_style: Style, post_style: Style,
                    width: int) -> list[Segment] | None:
        """What Rich makes of a padded, one-style, no-wrap, ellipsis-overflow line, without Rich's
        layout machinery; None when the text needs Rich (control characters, a cell too narrow)."""
        plain = value.plain
        padding = self.cell_padding
        inner = width - 2 * padding
        if inner < 2 or not plain.isprintable():
            return None
        text_style = self._text_styles.get(value.style)
        if text_style is None:
            text_style = self._text_styles[value.style] = self.app.console.get_style(value.style)
        length = cell_len(plain)
        if length > inner:
            plain = set_cell_size(plain, inner - 1) + "…"
            length = cell_len(plain)
        edge = pre_style + post_style  # the padding: Padding's null style between the two
        body = pre_style + text_style + post_style
        left = " " * padding
        right = " " * (padding + inner - length)
        if body == edge:
            return [Segment(left + plain + right, edge)]
        segments = [Segment(left, edge)] if left else []
        if plain:
            segments.append(Segment(plain, body))
        if right:
            segments.append(Segment(right, edge))
        return segments


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
