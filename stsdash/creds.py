"""Credential values passed between providers, the engine and the writer. Secrets never appear in repr."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Lengths AWS documents (AccessKeyId 16-128) widened for emulators and test doubles; the point is to
# stop a control character or a megabyte before it reaches an HTTP header or an AWS file.
FIELD_LIMITS = {"access key id": 128, "secret access key": 1024, "session token": 32768}
_BAD_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expiration: datetime | None = None  # timezone-aware UTC, None for long-term keys

    def problem(self, now: datetime | None = None) -> str | None:
        """Why these credentials must not be used or written, or None. Never quotes a value."""
        fields = (("access key id", self.access_key_id), ("secret access key", self.secret_access_key),
                  ("session token", self.session_token))
        for name, value in fields:
            if value is None and name == "session token":
                continue
            if not isinstance(value, str):
                return f"the {name} is not a string"
            if not value:
                return f"the {name} is empty"
            if len(value) > FIELD_LIMITS[name]:
                return f"the {name} is {len(value)} characters long (at most {FIELD_LIMITS[name]})"
            bad = _BAD_CHAR.search(value)
            if bad:
                return f"the {name} contains a control character (at position {bad.start() + 1})"
            if value != value.strip():
                return f"the {name} has leading or trailing spaces"
        if self.expiration is not None:
            if self.expiration.tzinfo is None:
                return "the expiration has no timezone"
            if self.expiration <= (now or datetime.now(UTC)):
                return f"the credentials expired already (at {self.expiration.isoformat()})"
        return None

    @property
    def is_temporary(self) -> bool:
        return bool(self.session_token)

    @property
    def masked_key_id(self) -> str:
        """Only the last four characters, for display."""
        return "…" + self.access_key_id[-4:] if self.access_key_id else ""


@dataclass(frozen=True)
class Identity:
    """What GetCallerIdentity says (or what an AssumeRole response implies)."""

    account: str
    arn: str
    user_id: str = ""
