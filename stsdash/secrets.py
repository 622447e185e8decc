"""Secrets in the OS keyring (service "stsdash"): long-term IAM user keys and MFA sessions.

Long-term keys in a plaintext `~/.aws/credentials` are what leaks; the keyring is the better home
(the aws-vault model). MFA sessions are kept too, so one code serves every role of a device until the
session expires. Nothing here ever falls back to a plain file: the backend is whatever `keyring` picks
(tests point PYTHON_KEYRING_BACKEND at a file-backed one inside a temp dir).

File-backed keyrings (keyrings.alt) rewrite their whole file on every change without a lock, so two
processes storing MFA sessions at once can wipe each other's entries, long-term keys included. Every
keyring access here holds a cross-process file lock next to stsdash's data, MFA sessions live under
their own service name, and every write is read back before it counts.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from stsdash import exiting
from stsdash.creds import Credentials
from stsdash.errors import StsdashError
from stsdash.timeutil import format_utc, parse_timestamp, utcnow

SERVICE = "stsdash"
SESSION_SERVICE = "stsdash-mfa-sessions"  # sessions churn; long-term keys stay under SERVICE
LOCK_TIMEOUT = 15.0
_LONG_TERM = "long-term:"
_MFA_SESSION = "mfa-session:"
# keyring cannot enumerate entries, so the names of stored long-term keys are kept in one index entry
_INDEX = "index:long-term"
# keyrings.alt backends that keep secrets readable on disk; used only when chosen explicitly
_PLAINTEXT_BACKENDS = frozenset({"PlaintextKeyring", "PlaintextPyFilesystemKeyring"})


class SecretStoreError(StsdashError):
    """The keyring refused or lost a write; the message says which profile or device."""


class SecretStore:
    """Typed access to stsdash's keyring entries. Thread-safe: file-backed backends are not."""

    def __init__(self, service: str = SERVICE, *, lock_path: Path | None = None) -> None:
        self.service = service
        self.session_service = SESSION_SERVICE if service == SERVICE else f"{service}-mfa-sessions"
        self._lock = threading.RLock()
        self._lock_path = lock_path
        self._file_lock: Any = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """This thread and every other stsdash process: one keyring access at a time."""
        import filelock

        with self._lock:
            if self._file_lock is None:
                path = self._lock_path or _default_lock_path()
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._file_lock = filelock.FileLock(str(path), timeout=LOCK_TIMEOUT, thread_local=False)
            try:
                with self._file_lock, exiting.critical():
                    yield
            except filelock.Timeout:
                raise SecretStoreError(
                    f"keyring: another stsdash process has held {self._file_lock.lock_file} for "
                    f"{LOCK_TIMEOUT:g} s",
                    hint="Wait for the other refresh to finish; if none runs, delete that lock file.",
                ) from None

    # -- long-term keys -------------------------------------------------------------------------------
    def get_long_term(self, profile: str) -> Credentials | None:
        data = self._get_json(_LONG_TERM + profile)
        if not data:
            return None
        try:
            return Credentials(access_key_id=data["AccessKeyId"], secret_access_key=data["SecretAccessKey"])
        except KeyError:
            return None

    def set_long_term(self, profile: str, creds: Credentials) -> None:
        """Store and read back: the caller deletes the file copy only after this returns."""
        if creds.is_temporary:
            raise SecretStoreError(
                f"profile {profile}: refusing to store temporary keys as long-term keys",
                hint="Only IAM user access keys (AKIA...) belong in the keyring.",
            )
        problem = creds.problem()
        if problem:
            raise SecretStoreError(f"profile {profile}: not stored in the keyring: {problem}")
        payload = {"AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key}
        with self._locked():
            self._set(_LONG_TERM + profile, json.dumps(payload))
            names = self.list_long_term()
            if profile not in names:
                self._set(_INDEX, json.dumps(sorted([*names, profile])))
            back = self.get_long_term(profile)
            if back is None or back != creds or profile not in self.list_long_term():
                raise SecretStoreError(
                    f"profile {profile}: the keyring did not return the keys just stored",
                    hint="Check the keyring backend (`keyring --list-backends`); nothing was removed.",
                )

    def delete_long_term(self, profile: str) -> None:
        with self._locked():
            self._delete(_LONG_TERM + profile)
            names = [n for n in self.list_long_term() if n != profile]
            self._set(_INDEX, json.dumps(names))

    def list_long_term(self) -> list[str]:
        """Profiles with keys in the keyring (from the index; entries missing from the backend dropped)."""
        with self._locked():
            raw = self._get(_INDEX)
            try:
                names = json.loads(raw) if raw else []
            except (ValueError, RecursionError):
                names = []
            if not isinstance(names, list):
                names = []
            return [n for n in names if isinstance(n, str) and self._get(_LONG_TERM + n) is not None]

    # -- MFA sessions ---------------------------------------------------------------------------------
    def get_mfa_session(self, serial: str, now: datetime | None = None) -> Credentials | None:
        """The stored MFA session of a device, or None when absent, unreadable or expired."""
        data = self._get_json(_MFA_SESSION + serial, self.session_service)
        if not data:
            return None
        try:
            expiration, _ = parse_timestamp(str(data["Expiration"]))
            creds = Credentials(
                access_key_id=data["AccessKeyId"],
                secret_access_key=data["SecretAccessKey"],
                session_token=data["SessionToken"],
                expiration=expiration,
            )
        except (KeyError, ValueError, TypeError):
            return None
        if creds.problem(now or utcnow()):  # expired, or not a value to put in a header
            return None
        return creds

    def set_mfa_session(self, serial: str, creds: Credentials) -> None:
        if not creds.session_token or creds.expiration is None:
            raise SecretStoreError(f"MFA device {serial}: a session needs a token and an expiration")
        payload = {
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
            "SessionToken": creds.session_token,
            "Expiration": format_utc(creds.expiration),
        }
        with self._locked():
            self._set(_MFA_SESSION + serial, json.dumps(payload), self.session_service)
            if self._get(_MFA_SESSION + serial, self.session_service) != json.dumps(payload):
                raise SecretStoreError(f"MFA device {serial}: the keyring lost the session just stored")

    def delete_mfa_session(self, serial: str) -> None:
        with self._locked():
            self._delete(_MFA_SESSION + serial, self.session_service)

    # -- backend --------------------------------------------------------------------------------------
    def _backend(self) -> Any:
        """The keyring backend, refusing a plaintext file that nobody asked for explicitly.

        A chainer backend writes to the first backend of its chain: that one is checked, not the chain's
        own class name. A backend that cannot even start (EncryptedKeyring without its crypto library)
        is a message, not a traceback.
        """
        import keyring

        try:
            backend = keyring.get_keyring()
            writer = _writing_backend(backend)
        except (ImportError, RuntimeError, ValueError, AttributeError) as exc:
            raise SecretStoreError(
                f"keyring: the configured backend cannot be used ({type(exc).__name__}: {exc})",
                hint="Install what it needs (EncryptedKeyring needs pycryptodome), or choose another backend "
                "with PYTHON_KEYRING_BACKEND or keyringrc.cfg.",
            ) from None
        if type(writer).__name__ in _PLAINTEXT_BACKENDS and not os.environ.get("PYTHON_KEYRING_BACKEND"):
            raise SecretStoreError(
                f"keyring: secrets would be written by {type(writer).__name__}, a plaintext file",
                hint="Install or unlock an OS keyring, or choose one knowingly with PYTHON_KEYRING_BACKEND.",
            )
        return backend

    def _get_json(self, key: str, service: str | None = None) -> dict | None:
        raw = self._get(key, service)
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def _get(self, key: str, service: str | None = None) -> str | None:
        import keyring.errors

        try:
            with self._locked():
                return self._backend().get_password(service or self.service, key)
        except (keyring.errors.KeyringError, RuntimeError, ValueError, OSError) as exc:
            raise SecretStoreError(f"keyring: cannot read {key}: {type(exc).__name__}: {exc}") from None

    def _set(self, key: str, value: str, service: str | None = None) -> None:
        import keyring.errors

        try:
            with self._locked():
                self._backend().set_password(service or self.service, key, value)
        except (keyring.errors.KeyringError, RuntimeError, ValueError, OSError) as exc:
            raise SecretStoreError(
                f"keyring: cannot store {key}: {type(exc).__name__}: {exc}",
                hint="Install or unlock an OS keyring (Secret Service, macOS Keychain, Windows Vault).",
            ) from None

    def _delete(self, key: str, service: str | None = None) -> None:
        import keyring.errors

        try:
            with self._locked():
                self._backend().delete_password(service or self.service, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except (keyring.errors.KeyringError, RuntimeError, ValueError, OSError) as exc:
            raise SecretStoreError(f"keyring: cannot delete {key}: {type(exc).__name__}: {exc}") from None


def _writing_backend(backend: Any) -> Any:
    """The backend that set_password really writes to: a chainer writes to the first of its chain."""
    chain = getattr(backend, "backends", None)
    if isinstance(chain, list | tuple) and chain:
        return _writing_backend(chain[0])
    return backend


def _default_lock_path() -> Path:
    """Next to stsdash's data (platformdirs user data dir; XDG_DATA_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("stsdash", appauthor=False)) / "keyring.lock"
