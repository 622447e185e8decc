"""User-facing errors. Every message names the file, line or profile and says what to do.

The profile an error is about is a field (`profile`), not part of the text: the message is composed
from it when shown (`message`, `str()`), so a place that shows the profile's name already (a row of
the dashboard) shows `text` instead, and nothing has to parse a name back out of a sentence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self


class StsdashError(Exception):
    """Base for errors shown to the user as-is (CLI exit code 1 or 2, a notification in the TUI).

    `detail` says what went wrong; `profile` is the profile it is about (None: not about one);
    `via` the profiles between them when a source of `profile` failed (innermost last).
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, profile: str | None = None) -> None:
        self.detail = message
        self.hint = hint
        self.profile = profile
        self.via: tuple[str, ...] = ()
        super().__init__(message)

    @property
    def text(self) -> str:
        """The message without the profile's own name (for places that show it already)."""
        return "".join(f"via profile {p}: " for p in self.via) + self.detail

    @property
    def message(self) -> str:
        """The message, naming the profile once: `profile NAME: [via profile SOURCE: ]detail`."""
        return f"profile {self.profile}: {self.text}" if self.profile else self.text

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  {self.hint}"

    def for_profile(self, profile: str) -> Self:
        """The same error (same class and fields) about `profile`; the failed source becomes `via`.

        When the error is already about `profile` (or passes through it) the detour is dropped, so a
        profile is named once however the failure reached it.
        """
        chain = [p for p in (self.profile, *self.via) if p]
        if chain[:1] == [profile]:
            return self
        via = tuple(chain[chain.index(profile) + 1 :]) if profile in chain else tuple(chain)
        copy = type(self).__new__(type(self), *self.args)
        copy.__dict__.update(self.__dict__)
        copy.profile, copy.via = profile, via
        copy.__cause__ = self
        return copy


class UsageError(StsdashError):
    """Bad command line or stsdash settings: exit code 2."""

    exit_code = 2


class FileFormatError(StsdashError):
    """A file that cannot be parsed the way botocore parses it. Never rewritten."""

    exit_code = 2

    def __init__(self, path: Path | str, line: int | None, reason: str, *, hint: str | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {reason}", hint=hint)


class SettingsError(UsageError):
    """A bad value in stsdash's own config.toml."""


class WriteRefused(StsdashError):
    """The credentials writer will not touch a section (long-term keys, not ours, shadowed)."""

    def __init__(self, path: Path | str, section: str, reason: str, *, hint: str | None = None) -> None:
        self.path = Path(path)
        self.section = section
        super().__init__(f"{path}: refusing to write [{section}]: {reason}", hint=hint)


class CredentialsWriteError(StsdashError):
    """The credentials file could not be written (lock timeout, disk full, permissions). It is unchanged."""


class ProviderError(StsdashError):
    """A provider call failed. `code` is the AWS error code when there is one."""

    def __init__(
        self,
        message: str,
        *,
        profile: str | None = None,
        code: str | None = None,
        hint: str | None = None,
        retryable: bool = False,
    ) -> None:
        self.code = code
        self.retryable = retryable
        super().__init__(message, hint=hint, profile=profile)


class MfaCodeError(ProviderError):
    """The MFA code was wrong or already used; the user may try again with a new code."""


class NetworkError(ProviderError):
    """The endpoint could not be reached (refused, timeout, DNS)."""


class SsoLoginRequired(ProviderError):
    """The SSO token is missing, expired or revoked: the user has to log in again."""
