"""Secrets in the OS keyring (service "stsdash"): long-term IAM user keys and MFA sessions.

Long-term keys in a plaintext `~/.aws/credentials` are what leaks; the keyring is the better home
(the aws-vault model). MFA sessions are kept too, so one code serves every role of a device until the
session expires. Nothing here ever falls back to a plain file: the backend is whatever `keyring` picks
(tests point PYTHON_KEYRING_BACKEND at a file-backed one inside a temp dir).
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime

from stsdash.creds import Credentials
from stsdash.errors import StsdashError
from stsdash.timeutil import format_utc, parse_timestamp, utcnow

SERVICE = "stsdash"
_LONG_TERM = "long-term:"
_MFA_SESSION = "mfa-session:"
# keyring cannot enumerate entries, so the names of stored long-term keys are kept in one index entry
_INDEX = "index:long-term"
# keyrings.alt backends that keep secrets readable on disk; used only when chosen explicitly
_PLAINTEXT_BACKENDS = frozenset({"PlaintextKeyring"})


class SecretStoreError(StsdashError):
    """The keyring refused or lost a write; the message says which profile or device."""


class SecretStore:
    """Typed access to stsdash's keyring entries. Thread-safe: file-backed backends are not."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self._lock = threading.RLock()

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
        payload = {"AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key}
        with self._lock:
            self._set(_LONG_TERM + profile, json.dumps(payload))
            back = self.get_long_term(profile)
            if back is None or back != creds:
                raise SecretStoreError(
                    f"profile {profile}: the keyring did not return the keys just stored",
                    hint="Check the keyring backend (`keyring --list-backends`); nothing was removed.",
                )
            names = self.list_long_term()
            if profile not in names:
                self._set(_INDEX, json.dumps(sorted([*names, profile])))

    def delete_long_term(self, profile: str) -> None:
        with self._lock:
            self._delete(_LONG_TERM + profile)
            names = [n for n in self.list_long_term() if n != profile]
            self._set(_INDEX, json.dumps(names))

    def list_long_term(self) -> list[str]:
        """Profiles with keys in the keyring (from the index; entries missing from the backend dropped)."""
        with self._lock:
            raw = self._get(_INDEX)
            try:
                names = json.loads(raw) if raw else []
            except ValueError:
                names = []
            return [n for n in names if isinstance(n, str) and self._get(_LONG_TERM + n) is not None]

    # -- MFA sessions ---------------------------------------------------------------------------------
    def get_mfa_session(self, serial: str, now: datetime | None = None) -> Credentials | None:
        """The stored MFA session of a device, or None when absent, unreadable or expired."""
        data = self._get_json(_MFA_SESSION + serial)
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
        except (KeyError, ValueError):
            return None
        if expiration <= (now or utcnow()):
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
        with self._lock:
            self._set(_MFA_SESSION + serial, json.dumps(payload))

    def delete_mfa_session(self, serial: str) -> None:
        with self._lock:
            self._delete(_MFA_SESSION + serial)

    # -- backend --------------------------------------------------------------------------------------
    def _backend(self):
        """The keyring backend, refusing a plaintext file that nobody asked for explicitly."""
        import keyring

        backend = keyring.get_keyring()
        if type(backend).__name__ in _PLAINTEXT_BACKENDS and not os.environ.get("PYTHON_KEYRING_BACKEND"):
            raise SecretStoreError(
                f"keyring: the only backend available is {type(backend).__name__}, a plaintext file",
                hint="Install or unlock an OS keyring, or choose one knowingly with PYTHON_KEYRING_BACKEND.",
            )
        return backend

    def _get_json(self, key: str) -> dict | None:
        raw = self._get(key)
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _get(self, key: str) -> str | None:
        import keyring.errors

        try:
            with self._lock:
                return self._backend().get_password(self.service, key)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"keyring: cannot read {key}: {exc}") from None

    def _set(self, key: str, value: str) -> None:
        import keyring.errors

        try:
            with self._lock:
                self._backend().set_password(self.service, key, value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"keyring: cannot store {key}: {exc}",
                hint="Install or unlock an OS keyring (Secret Service, macOS Keychain, Windows Vault).",
            ) from None

    def _delete(self, key: str) -> None:
        import keyring.errors

        try:
            with self._lock:
                self._backend().delete_password(self.service, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"keyring: cannot delete {key}: {exc}") from None
