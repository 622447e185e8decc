"""LiveTable: the same rows through it and through a stock DataTable come out the same, cell by cell;
only rows in view are built; a changed cell repaints only its own region; columns fit 80/100/120."""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable

from stsdash.ui.columns import Column, fit
from stsdash.ui.rows import PROFILE_COLUMNS
from stsdash.ui.widgets.live_table import LiveTable

COLUMNS = (("name", "Profile", 14), ("status", "Status", 12), ("target", "Target", 20),
           ("region", "Region", 9))
STYLES = {"fresh": "green", "expired": "bold red", "name": "bold", "dim": "dim"}
ROWS: dict[str, dict[str, tuple[str, str]]] = {
    "dev-admin": {"name": ("dev-admin", "name"), "status": ("✓ 59m 58s", "fresh"),
                  "target": ("dev-admin-session", ""), "region": ("eu-west-1", "")},
    "legacy-ci": {"name": ("legacy-ci", "name"), "status": ("expired 3d ago", "expired"),
                  "target": ("legacy-ci-session", "dim"), "region": ("us-west-2", "")},
    "a-very-long-profile-name": {"name": ("a-very-long-profile-name", "name"), "status": ("", ""),
                                 "target": ("-", "dim"), "region": ("ap-southeast-2", "")},
    "ünïcode-名前": {"name": ("ünïcode-名前", "name"), "status": ("⠋ refreshing", "fresh"),
                    "target": ("x" * 30, ""), "region": ("-", "")},
}


class Side(App[None]):
    """The same rows in both tables, stacked, at the same column widths."""

    def compose(self) -> ComposeResult:
        live = LiveTable([Column(key, label, i, width, width) for i, (key, label, width) in
                          enumerate(COLUMNS, 1)], cells_for=lambda key: ROWS[key], id="live")
        yield live
        yield DataTable(id="stock", cursor_type="row", show_cursor=True)

    def on_mount(self) -> None:
        live = self.query_one(LiveTable)
        live.styles_map = STYLES
        live.set_rows(list(ROWS), {key: width for key, _, width in COLUMNS})
        stock = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            stock.add_column(label, key=key, width=width)
        for key, cells in ROWS.items():
            stock.add_row(*(Text(cells[c][0], style=STYLES.get(cells[c][1], ""), no_wrap=True,
                                 overflow="ellipsis") for c, _, _ in COLUMNS), key=key)


def cells(segments: list[Segment]) -> list[tuple[str, object, bool, bool]]:
    """One entry per terminal cell: (character, foreground colour, bold, dim)."""
    out = []
    for segment in segments:
        style = segment.style
        for char in segment.text:
            out.append((char, style.color if style else None, bool(style and style.bold),
                        bool(style and style.dim)))
            if ord(char) > 0x2E80:  # a wide character takes two cells; the second is its shadow
                out.append(("", None, False, False))
    return out


async def test_live_table_draws_every_cell_as_the_stock_datatable_does() -> None:
    app = Side()
    async with app.run_test(size=(90, 20)) as pilot:
        await pilot.pause()
        live, stock = app.query_one(LiveTable), app.query_one(DataTable)
        spans = [(p.x, p.span) for p in live.column_layout()]
        assert [p.width for p in live.column_layout()] == [width for _, _, width in COLUMNS]
        compared = 0
        for y in range(0, len(ROWS) + 1):
            ours, theirs = cells(list(live.render_line(y))), cells(list(stock.render_line(y)))
            for x, span in spans:
                ours_text = "".join(c[0] for c in ours[x:x + span])
                theirs_text = "".join(c[0] for c in theirs[x:x + span])
                assert ours_text == theirs_text, (y, x)
                if y > 1:  # body rows below the cursor: the cell's own colour, bold and dim
                    assert [c[1:] for c in ours[x + 1:x + span - 1] if c[0].strip()] == \
                           [c[1:] for c in theirs[x + 1:x + span - 1] if c[0].strip()], (y, x)
                compared += 1
        assert compared == (len(ROWS) + 1) * len(COLUMNS)


class Big(App[None]):
    def __init__(self, rows: int) -> None:
        super().__init__()
        self.asked: list[str] = []
        self.rows = [f"role-{i:05d}" for i in range(rows)]

    def cells_for(self, key: str) -> dict[str, tuple[str, str]]:
        self.asked.append(key)
        return {"name": (key, ""), "status": ("1h 00m", "")}

    def compose(self) -> ComposeResult:
        yield LiveTable(PROFILE_COLUMNS, cells_for=self.cells_for)

    def on_mount(self) -> None:
        self.query_one(LiveTable).set_rows(self.rows, {"name": 10})


async def test_only_rows_in_view_are_built() -> None:
    app = Big(20_000)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(LiveTable)
        assert table.row_count == 20_000
        assert 0 < len(set(app.asked)) <= 30  # the rows on screen, not 20,000
        app.asked.clear()
        await pilot.press("end")
        await pilot.pause()
        assert table.selected_key == "role-19999"
        assert set(app.asked) <= set(app.rows[-30:])


async def test_a_changed_cell_repaints_only_its_own_region(monkeypatch) -> None:
    app = Big(50)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(LiveTable)
        painted: list[tuple] = []
        monkeypatch.setattr(table, "refresh", lambda *regions, **kw: painted.append(regions))
        assert table.refresh_visible() == 0  # nothing changed: nothing repainted
        assert painted == []
        app.cells_for = lambda key: {"name": (key, ""), "status": ("59m 59s" if key == "role-00003"
                                                                   else "1h 00m", "")}
        table.cells_for = app.cells_for
        assert table.refresh_visible() == 1
        status = next(p for p in table.column_layout() if p.key == "status")
        assert painted == [(Region(status.x, 4, status.span, 1),)]  # row 3, below the header


def test_columns_by_priority_at_80_100_and_120() -> None:
    natural = {"name": 15, "target": 23, "region": 14, "kind": 11, "account": 12, "status": 16, "role": 14}
    at = {width: fit(PROFILE_COLUMNS, natural, width) for width in (80, 100, 120)}
    keys = {width: [p.key for p in placed] for width, placed in at.items()}
    assert keys[80][:3] == ["name", "status", "target"]
    assert set(keys[100]) >= {"name", "status", "target", "kind", "region"}
    assert keys[120] == ["name", "status", "target", "kind", "region", "account", "role"]
    for width, placed in at.items():
        assert placed[-1].x + placed[-1].span <= width
        for p in placed:  # common values are never cut: region codes, account ids, <name>-session
            if p.key in ("name", "target", "region", "account"):
                assert p.width >= natural[p.key], (width, p)
