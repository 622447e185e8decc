"""Reading what servers and programs send back: every field checked against its documented type and
range before anything uses it.

A bad answer is a clear failure that names the server and the field, never a traceback and never a
success: a `secretAccessKey` given as a list, an `expiresIn` of -100, an `accessToken` of `{}` or JSON
nested a million deep all stop here. Values are never quoted in messages (they may be secrets).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from stsdash.errors import ProviderError

MAX_JSON_BYTES = 4 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
BAD_ANSWER_HINT = "Retry; if it persists, check the endpoint setting and any proxy in between."


class BadAnswer(ProviderError):
    """A server or program answered with something that is not what its API documents."""

    def __init__(self, server: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"{server} sent a bad answer: {problem}", code="InvalidResponse",
                         hint=hint or BAD_ANSWER_HINT)


def load_json(body: bytes | str, server: str, *, hint: str | None = None) -> Any:
    """Parse JSON from an untrusted source: size-capped, and deep nesting is a bad answer, not a crash."""
    if len(body) > MAX_JSON_BYTES:
        raise BadAnswer(server, f"more than {MAX_JSON_BYTES} bytes of JSON", hint=hint)
    try:
        return json.loads(body)
    except RecursionError:
        raise BadAnswer(server, "JSON nested too deeply", hint=hint) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise BadAnswer(server, f"not JSON (error at {where})", hint=hint) from None
    except (ValueError, UnicodeDecodeError):
        raise BadAnswer(server, "not JSON", hint=hint) from None


def has_control(text: str) -> bool:
    """Control characters, line/paragraph separators and bidi/zero-width marks."""
    return _CONTROL.search(text) is not None


class Fields:
    """Typed access to one JSON object of an answer; `server` (and `where`) label every error."""

    def __init__(self, data: object, server: str, where: str = "", *, hint: str | None = None) -> None:
        self.server = server
        self.where = where
        self.hint = hint
        if not isinstance(data, dict):
            raise self._bad(where or "the answer", f"is a JSON {_kind(data)}, not an object")
        self.data: dict[str, Any] = data

    def _bad(self, key: str, problem: str) -> BadAnswer:
        return BadAnswer(self.server, f"{key} {problem}", hint=self.hint)

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(self, key: str, *, required: bool = True, max_len: int = 4096, min_len: int = 1,
             controls: bool = False) -> str | None:
        """A string of sane length; without control characters unless `controls` (the caller checks)."""
        value = self.data.get(key)
        name = self._name(key)
        if value is None:
            if required:
                raise self._bad(name, "is missing")
            return None
        if not isinstance(value, str):
            raise self._bad(name, f"is a JSON {_kind(value)}, not a string")
        if not min_len <= len(value) <= max_len:
            raise self._bad(name, f"has {len(value)} characters (expected {min_len} to {max_len})")
        if not controls and has_control(value):
            raise self._bad(name, "contains control characters")
        return value

    def number(self, key: str, *, low: float, high: float, required: bool = True,
               integer: bool = True) -> float | None:
        """A finite JSON number within [low, high]; integers stay integers."""
        value = self.data.get(key)
        name = self._name(key)
        if value is None:
            if required:
                raise self._bad(name, "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._bad(name, f"is a JSON {_kind(value)}, not a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise self._bad(name, "is not a finite number")
        if integer and isinstance(value, float) and not value.is_integer():
            raise self._bad(name, "is not a whole number")
        if not low <= value <= high:
            raise self._bad(name, f"is {value:g}, outside {low:g} to {high:g}")
        return int(value) if integer else float(value)

    def obj(self, key: str, *, required: bool = True) -> Fields | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        return Fields(value, self.server, self._name(key), hint=self.hint)

    def objects(self, key: str, *, required: bool = False, max_items: int = 10000) -> list[Fields]:
        value = self.data.get(key)
        name = self._name(key)
        if value is None:
            if required:
                raise self._bad(name, "is missing")
            return []
        if not isinstance(value, list):
            raise self._bad(name, f"is a JSON {_kind(value)}, not a list")
        if len(value) > max_items:
            raise self._bad(name, f"has {len(value)} items (at most {max_items} expected)")
        return [Fields(item, self.server, f"{name}[{n}]", hint=self.hint) for n, item in enumerate(value)]


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__
