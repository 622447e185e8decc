"""Messages that carry worker results back to the main thread.

Workers never touch widgets; they post one of these (``post_message`` is thread-safe) and the screen
updates itself in the handler, on the event loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from stsdash.creds import Identity
    from stsdash.engine import RefreshResult
    from stsdash.errors import StsdashError
    from stsdash.profiles import ProfileSet


class ProfilesLoaded(Message):
    """A fresh read of the AWS files (startup, a change on disk, or after a refresh)."""

    def __init__(self, profiles: ProfileSet) -> None:
        super().__init__()
        self.profiles = profiles


class LoadFailed(Message):
    """The AWS files could not be read; the table keeps what it last showed."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class ProfileRefreshed(Message):
    """One profile's result, as soon as the engine reports it."""

    def __init__(self, result: RefreshResult) -> None:
        super().__init__()
        self.result = result


class RefreshFinished(Message):
    """The whole batch is over (results may be fewer than names if the engine gave up early)."""

    def __init__(self, names: list[str], error: Exception | None = None, *, quiet: bool = False) -> None:
        super().__init__()
        self.names = names
        self.error = error
        self.quiet = quiet


class IdentityResult(Message):
    """GetCallerIdentity for one profile, or the error it raised."""

    def __init__(self, name: str, identity: Identity | None, error: StsdashError | Exception | None) -> None:
        super().__init__()
        self.name = name
        self.identity = identity
        self.error = error


class NeedsCode(Message):
    """Auto-refresh found profiles that need an MFA code: say so, never open a modal unasked."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names
