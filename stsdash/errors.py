"""User-facing errors. Every message names the file, line or profile and says what to do."""

from __future__ import annotations

from pathlib import Path


class StsdashError(Exception):
    """Base for errors shown to the user as-is (CLI exit code 1 or 2, a notification in the TUI)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n  {hint}")


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
        self.profile = profile
        self.code = code
        self.retryable = retryable
        prefix = f"profile {profile}: " if profile else ""
        super().__init__(prefix + message, hint=hint)


class MfaCodeError(ProviderError):
    """The MFA code was wrong or already used; the user may try again with a new code."""


class NetworkError(ProviderError):
    """The endpoint could not be reached (refused, timeout, DNS)."""


class SsoLoginRequired(ProviderError):
    """The SSO token is missing, expired or revoked: the user has to log in again."""
