"""Which columns fit the terminal: by priority, each at its natural width, the rest to the flexible one.

Pure arithmetic (no textual), so the widths at 80, 100 and 120 columns are tested directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

PADDING = 1  # blank cells each side of every cell


class Column(NamedTuple):
    key: str
    label: str
    priority: int  # 1 is shown first and dropped last
    min_width: int  # narrower than this, the column is left out
    max_width: int  # wider content is cut with an ellipsis
    flex: bool = False  # gets the width left over once every column that fits is placed


class Placed(NamedTuple):
    key: str
    label: str
    x: int  # first cell, padding included
    width: int  # content width, padding excluded

    @property
    def span(self) -> int:
        return self.width + 2 * PADDING


def fit(columns: Sequence[Column], natural: Mapping[str, int], total: int) -> list[Placed]:
    """Place columns in their declared order, choosing them by priority until the width runs out.

    `natural` is the widest content of each column (its label included by the caller or not: the label
    is always counted here). A column gets min(natural, max_width) but never less than min_width; a
    column that does not fit is left out and a narrower, lower-priority one may still fit. Space left
    over goes to the flex columns (up to their max), then to any column cut below its natural width.
    """
    want = {c.key: max(c.min_width, min(c.max_width, max(natural.get(c.key, 0), len(c.label))))
            for c in columns}
    chosen: dict[str, int] = {}
    left = total
    for column in sorted(columns, key=lambda c: c.priority):
        need = want[column.key] + 2 * PADDING
        if need <= left:
            chosen[column.key] = want[column.key]
            left -= need
        elif not chosen:  # not even the first column fits: give it what there is
            chosen[column.key] = max(1, left - 2 * PADDING)
            left = 0
    for column in sorted(columns, key=lambda c: c.priority):
        if left <= 0:
            break
        if column.key in chosen and column.flex:
            grow = min(left, column.max_width - chosen[column.key])
            if grow > 0:
                chosen[column.key] += grow
                left -= grow
    for column in sorted(columns, key=lambda c: c.priority):
        if left <= 0:
            break
        if column.key in chosen:
            full = max(natural.get(column.key, 0), len(column.label))
            grow = min(left, full - chosen[column.key])
            if grow > 0:
                chosen[column.key] += grow
                left -= grow
    placed, x = [], 0
    for column in columns:
        if column.key in chosen:
            placed.append(Placed(column.key, column.label, x, chosen[column.key]))
            x += chosen[column.key] + 2 * PADDING
    return placed
