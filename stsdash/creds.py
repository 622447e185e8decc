"""Credential values passed between providers, the engine and the writer. Secrets never appear in repr."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expiration: datetime | None = None  # timezone-aware UTC, None for long-term keys

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
