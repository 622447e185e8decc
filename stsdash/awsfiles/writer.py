"""The only code that writes `~/.aws/credentials`: the write policy.

Other tools lose comments, reorder sections, replace symlinks and race each other. Here every write
is: take a cross-process lock (awsfiles.locking), read the file, refuse anything unsafe (awsfiles.rules),
edit only the lines of the sections being written (awsfiles.iniedit, a byte-preserving line editor), check
the result with botocore's own parser, then `atomic_write`.

As a safety net, old and new text are both parsed with `configparser.RawConfigParser` (botocore's parser)
and the write is refused unless exactly the intended sections changed, in exactly the intended way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stsdash.awsfiles import guard, iniedit, rules, snapshot
from stsdash.awsfiles.atomic import resolve_target
from stsdash.awsfiles.locking import locked
from stsdash.creds import Credentials
from stsdash.errors import CredentialsWriteError, FileFormatError, WriteRefused
from stsdash.timeutil import format_utc

__all__ = ["MANAGED_MARKER", "CredentialsWriteError", "CredentialsWriter", "SectionUpdate"]

MANAGED_MARKER = rules.MANAGED_MARKER  # key written in every section stsdash owns; botocore ignores it

_ACCESS_KEY = rules.ACCESS_KEY
_SECRET_KEY = rules.SECRET_KEY
_SESSION_TOKEN = rules.SESSION_TOKEN
_EXPIRATION = rules.EXPIRATION
_STALE_TOKEN = rules.SECURITY_TOKEN  # legacy alias; botocore prefers it over aws_session_token

_CONFIGPARSER_DEFAULT = rules.DEFAULT_SECTION

_NOT_OURS_HINT = (
    "stsdash only writes sections it created. Choose another target section for this profile in "
    f"stsdash's settings, or add `{MANAGED_MARKER} = true` to the section if stsdash may overwrite it."
)
_LONG_TERM_HINT = (
    "Long-term keys are never overwritten. Move them to the OS keyring with `stsdash keys import`, "
    "or choose another target section for this profile in stsdash's settings."
)

_BAD_INPUT_HINT = (
    "The credentials provider returned something stsdash cannot write safely; nothing was written."
)


@dataclass(frozen=True)
class SectionUpdate:
    section: str
    credentials: Credentials  # temporary: must have session_token and expiration
    # Non-secret settings written beside the keys (e.g. region); None removes that key from the section.
    settings: Mapping[str, str | None] = field(default_factory=dict)


class CredentialsWriter:
    """Writes temporary credentials into sections stsdash owns (marked with `x_stsdash_managed = true`)."""

    def __init__(self, path: Path, *, lock_timeout: float = 15.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        # The last file read: `check` for every profile of a refresh, then `write`, parse it once.
        self._known: snapshot.Snapshot | None = None

    def check(self, section: str) -> None:
        """Raise WriteRefused if `write()` would refuse this section as the file is now."""
        _check_section_name(self.path, section)
        target = resolve_target(self.path)
        snap = self._load(target, section)
        self._check_owned(snap, section)

    def write(self, updates: Sequence[SectionUpdate]) -> None:
        """Write all `updates` in one atomic replace, or nothing at all."""
        if not updates:
            return
        seen: set[str] = set()
        new_values: dict[str, dict[str, str]] = {}
        removed: dict[str, list[str]] = {}
        for update in updates:
            _check_section_name(self.path, update.section)
            if update.section in seen:
                raise ValueError(f"section [{update.section}] appears twice in one write")
            seen.add(update.section)
            new_values[update.section] = _values_for(self.path, update.section, update.credentials)
            settings, removed[update.section] = _settings_for(self.path, update.section, update.settings)
            new_values[update.section].update(settings)
        first = updates[0].section
        target = resolve_target(self.path)
        with self._locked(target):
            previous: bytes | None = None
            for _attempt in range(guard.ATTEMPTS):
                snap = self._load(target, first, previous)
                previous = snap.data
                for name in new_values:
                    self._check_owned(snap, name)
                new_bytes = self._edited(snap, new_values, removed, first)
                if new_bytes == snap.data or self._commit(snap, new_bytes):
                    return
            raise guard.kept_changing(self.path)

    def remove_section(self, section: str, *, expect_access_key_id: str) -> None:
        """Delete exactly `section`'s lines (after `keys import` has verified the keyring copy).

        Refuses if the section's access key id is not `expect_access_key_id`: the file changed since the
        keys were imported, and those keys would be lost.
        """
        _check_section_name(self.path, section)
        target = resolve_target(self.path)
        with self._locked(target):
            previous: bytes | None = None
            for _attempt in range(guard.ATTEMPTS):
                snap = self._load(target, section, previous)
                previous = snap.data
                if not snap.has_section(section):
                    raise WriteRefused(
                        self.path,
                        section,
                        "the section does not exist",
                        hint="Nothing was removed; check the profile name.",
                    )
                start, end = snap.around(section)
                own = self._own(snap, start, end, section)
                if own[section].get(_ACCESS_KEY) != expect_access_key_id:
                    raise WriteRefused(
                        self.path,
                        section,
                        "its access key id is not the one that was imported",
                        hint="The file changed meanwhile; run `stsdash keys import` again.",
                    )
                doc = snap.document(start, end)
                sec = doc.section(section)
                assert sec is not None  # the window holds the section's header
                try:
                    iniedit.remove_section(doc, sec)
                except FileFormatError as exc:
                    raise self._edit_refused(section) from exc
                expected = {name: values for name, values in own.items() if name != section}
                self._verify(snap, start, end, doc, expected, section)
                if self._commit(snap, snap.replaced({(start, end): doc.lines})):
                    return
            raise guard.kept_changing(self.path)

    # -- internals ------------------------------------------------------------------------------------

    def _locked(self, target: Path) -> contextlib.AbstractContextManager[None]:
        return locked(self.path, target, self.lock_timeout)

    def _load(self, target: Path, section: str, previous: bytes | None = None) -> snapshot.Snapshot:
        """Read and validate the file. Malformed files are refused, never rewritten."""
        try:
            snap = guard.read_settled(self.path, target, previous, self._known)
        except FileFormatError as exc:
            if "not a regular file" in exc.reason:
                raise WriteRefused(
                    self.path,
                    section,
                    exc.reason,
                    hint="Point AWS_SHARED_CREDENTIALS_FILE at a regular file.",
                ) from exc
            raise WriteRefused(
                self.path,
                section,
                f"the file is malformed ({exc.message})",
                hint="Fix the file by hand; stsdash never rewrites a file botocore cannot parse.",
            ) from exc
        except OSError as exc:
            raise WriteRefused(self.path, section, f"cannot read the file: {exc.strerror or exc}") from exc
        guard.check_replaceable(self.path, section, snap.st)
        self._known = snap
        return snap

    def _own(self, snap: snapshot.Snapshot, start: int, end: int, section: str) -> dict[str, dict[str, str]]:
        try:
            return snap.own_values(start, end)
        except FileFormatError as exc:
            raise WriteRefused(
                self.path,
                section,
                f"the file is malformed ({exc.message})",
                hint="Fix the file by hand; stsdash never rewrites a file botocore cannot parse.",
            ) from exc

    def _check_owned(self, snap: snapshot.Snapshot, section: str) -> None:
        defaults = snap.ini.defaults.values if snap.ini.defaults is not None else {}
        spoiled = rules.defaults_problem(defaults)
        if spoiled is not None:
            key, why = spoiled
            raise WriteRefused(self.path, section, why, hint=f"Remove {key} from [DEFAULT].")
        if not snap.has_section(section):
            return  # a new section: ours from now on
        values = self._own(snap, *snap.window(section), section)[section]
        if rules.holds_long_term_keys(values):
            raise WriteRefused(self.path, section, "it holds long-term access keys", hint=_LONG_TERM_HINT)
        if not rules.is_managed(values):
            raise WriteRefused(
                self.path,
                section,
                f"stsdash does not own it (no `{MANAGED_MARKER} = true`)",
                hint=_NOT_OURS_HINT,
            )

    def _edited(
        self,
        snap: snapshot.Snapshot,
        new_values: dict[str, dict[str, str]],
        removed: dict[str, list[str]],
        first: str,
    ) -> bytes:
        """The new file: each section written inside its own window, new sections after the last one."""
        windows: dict[tuple[int, int], list[str]] = {}
        appended = [name for name in new_values if not snap.has_section(name)]
        for name in new_values:
            if snap.has_section(name):
                windows.setdefault(snap.window(name), []).append(name)
        if appended:
            windows.setdefault(snap.tail(), [])
        edited: dict[tuple[int, int], list[iniedit.Line]] = {}
        for (start, end), names in windows.items():
            doc = snap.document(start, end)
            expected = self._own(snap, start, end, first)
            try:
                for name in names:
                    iniedit.set_values(doc, name, new_values[name], remove=[_STALE_TOKEN, *removed[name]])
                if (start, end) == snap.tail():
                    for name in appended:
                        iniedit.append_section(doc, name, new_values[name])
            except FileFormatError as exc:
                raise self._edit_refused(first) from exc
            for name in names:
                gone = {_STALE_TOKEN, *removed[name]}
                kept = {k: v for k, v in expected[name].items() if k not in gone}
                expected[name] = kept | new_values[name]
            if (start, end) == snap.tail():
                expected.update((name, new_values[name]) for name in appended)
            self._verify(snap, start, end, doc, expected, first)
            edited[(start, end)] = doc.lines
        return snap.replaced(edited)

    def _verify(
        self,
        snap: snapshot.Snapshot,
        start: int,
        end: int,
        doc: iniedit.Document,
        expected: dict[str, dict[str, str]],
        section: str,
    ) -> None:
        """botocore's parser must see exactly `expected` in the edited window (and the next header still a
        header), section by section, in order."""
        try:
            actual = snap.own_values(start, end, doc.lines)
        except FileFormatError as exc:
            actual = {"<unparseable>": {"error": exc.reason}}
        if list(actual) != list(expected) or actual != expected:
            raise self._edit_refused(section)

    def _edit_refused(self, section: str) -> WriteRefused:
        return WriteRefused(
            self.path,
            section,
            "the edit would change how botocore reads other lines of the file (unusual indentation?)",
            hint="Nothing was written. Tidy the file by hand (no indented keys or headers) and retry.",
        )

    def _commit(self, snap: snapshot.Snapshot, data: bytes) -> bool:
        """Replace the file with `data` if it is still the one read; False (nothing written) if not."""
        try:
            return guard.replace_if_unchanged(snap, data)
        except OSError as exc:
            raise CredentialsWriteError(
                f"could not write {self.path}: {exc.strerror or exc}; the file is unchanged",
                hint="Check free disk space and permissions, then try again.",
            ) from exc


def _check_section_name(path: Path, name: str) -> None:
    """A section name becomes `[name]` on a line of its own: it must parse back as exactly that name."""
    problem = rules.section_name_problem(name)
    if problem:
        raise WriteRefused(path, rules.escaped(name), problem, hint="Choose another target section name.")


def _values_for(path: Path, section: str, creds: Credentials) -> dict[str, str]:
    """The five values stsdash writes, checked so none can break out of its line. Never echoes secrets."""
    if not creds.session_token:
        raise WriteRefused(
            path, section, "the credentials have no session token (long-term keys)", hint=_LONG_TERM_HINT
        )
    if creds.expiration is None or creds.expiration.utcoffset() is None:
        raise WriteRefused(
            path, section, "the credentials have no timezone-aware expiration time", hint=_BAD_INPUT_HINT
        )
    if rules.is_long_term_key_id(creds.access_key_id):
        raise WriteRefused(
            path, section, "the access key id is a long-term (AKIA…) key id", hint=_LONG_TERM_HINT
        )
    values = {
        _ACCESS_KEY: creds.access_key_id,
        _SECRET_KEY: creds.secret_access_key,
        _SESSION_TOKEN: creds.session_token,
        _EXPIRATION: format_utc(creds.expiration),
        MANAGED_MARKER: "true",
    }
    rules.check_values(path, section, values, hint=_BAD_INPUT_HINT)
    return values


_CREDENTIAL_KEYS = frozenset(
    (_ACCESS_KEY, _SECRET_KEY, _SESSION_TOKEN, _STALE_TOKEN, _EXPIRATION, MANAGED_MARKER)
)


def _settings_for(
    path: Path, section: str, settings: Mapping[str, str | None]
) -> tuple[dict[str, str], list[str]]:
    """(values to write, keys to remove) for a section's non-secret settings, checked like the keys."""
    clash = _CREDENTIAL_KEYS.intersection(settings)
    if clash:
        raise ValueError(f"settings for [{section}] name credential keys: {sorted(clash)}")
    values = {key: value for key, value in settings.items() if value is not None}
    rules.check_values(
        path, section, values,
        hint="Fix that setting of the profile in the AWS config file; nothing was written.",
    )
    return values, [key for key, value in settings.items() if value is None]
