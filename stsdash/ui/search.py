"""The `/` filter: fuzzy, ranked matching over name, account id, role and kind.

Pure Python (no textual). Built once per load of the files, on the first `/`; each keystroke that
extends the query searches only the previous matches, so typing stays fast at 20,000 profiles.

Rank, best first: the name starts with the query; the name contains it; another field (account id,
role or source, kind) contains it. Only when nothing contains it: the name holds its letters in order,
then any field does (`stgdep` finds staging-deploy). Ties keep the table's order. Several words must
all match; the first word ranks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from stsdash.ui.rows import role_or_source

if TYPE_CHECKING:
    from stsdash.profiles import Profile


class ProfileIndex:
    def __init__(self, profiles: Sequence[Profile]) -> None:
        self.names = [p.name for p in profiles]
        self._lower = [name.lower() for name in self.names]
        # One string per profile: the name first, then the other fields, tab separated.
        self._hay = [f"{lower}\t{p.account_id or ''}\t{role_or_source(p).lower()}\t{p.kind}"
                     for lower, p in zip(self._lower, profiles, strict=True)]
        self._last: tuple[str, str, list[int]] = ("", "", [])

    def search(self, query: str) -> list[str]:
        """Names that match, best first; every name (in table order) for an empty query."""
        words = query.lower().split()
        if not words:
            return list(self.names)
        key = " ".join(words)
        last_key, last_kind, last_pool = self._last
        extends = bool(last_key) and key.startswith(last_key)
        # Matches of a longer query are among those of the shorter one, substring and fuzzy alike.
        pool: Sequence[int] = last_pool if extends else range(len(self.names))
        ranked = self._contains(words, pool)
        kind = "contains"
        if not ranked:
            if extends and last_kind == "contains":
                pool = range(len(self.names))
            ranked = self._in_order(words, pool)
            kind = "in order"
        self._last = (key, kind, sorted(entry[3] for entry in ranked))
        ranked.sort()
        names = self.names
        return [names[entry[3]] for entry in ranked]

    def _contains(self, words: list[str], pool: Sequence[int]) -> list[tuple[int, int, int, int]]:
        first, rest = words[0], words[1:]
        hay, lower = self._hay, self._lower
        ranked = []
        for index in pool:
            text = hay[index]
            if first not in text or (rest and not all(word in text for word in rest)):
                continue
            name = lower[index]
            at = name.find(first)
            if at == 0:
                ranked.append((0, 0, len(name), index))
            elif at > 0:
                ranked.append((1, at, len(name), index))
            else:
                ranked.append((2, text.find(first), len(name), index))
        return ranked

    def _in_order(self, words: list[str], pool: Sequence[int]) -> list[tuple[int, int, int, int]]:
        patterns = [_fuzzy(word) for word in words]
        hay, lower = self._hay, self._lower
        ranked = []
        for index in pool:
            text = hay[index]
            found = patterns[0].search(text)
            if found is None or not all(p.search(text) for p in patterns[1:]):
                continue
            name = lower[index]
            tier = 3 if found.end() <= len(name) else 4
            ranked.append((tier, found.end() - found.start(), len(name), index))
        return ranked


def _fuzzy(word: str) -> re.Pattern[str]:
    """The letters of `word` in order, with anything between (shortest span first)."""
    return re.compile(".*?".join(re.escape(ch) for ch in word))
