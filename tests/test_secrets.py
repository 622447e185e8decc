"""SecretStore against a real file-backed keyring inside the temp dir (the aws_home fixture picks it)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from stsdash.creds import Credentials
from stsdash.secrets import SecretStore, SecretStoreError
from stsdash.timeutil import utcnow

LONG = Credentials("AKIAEXAMPLELONGTERM1", "secretEXAMPLEKEY/longterm+1")
SESSION = Credentials(
    "ASIAEXAMPLESESSION01",
    "secretEXAMPLEsession",
    session_token="tokenEXAMPLE" * 10,
    expiration=utcnow().replace(microsecond=0) + timedelta(hours=12),
)
SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def _keyring_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.cfg") if "keyring" in p.name]


def test_long_term_round_trip_uses_the_keyring_file_in_the_temp_dir(aws_home) -> None:
    store = SecretStore()
    assert store.get_long_term("alice") is None
    store.set_long_term("alice", LONG)
    assert store.get_long_term("alice") == LONG
    assert store.list_long_term() == ["alice"]
    # The backend wrote inside the temp dir, and nowhere near the AWS files.
    files = _keyring_files(aws_home.root)
    assert files and all(aws_home.root in f.parents for f in files)
    assert not aws_home.credentials.exists()
    # A fresh store (new process view) reads the same entry.
    assert SecretStore().get_long_term("alice") == LONG


def test_delete_long_term(aws_home) -> None:
    store = SecretStore()
    store.set_long_term("alice", LONG)
    store.set_long_term("bob", Credentials("AKIAEXAMPLEBOB000001", "secretEXAMPLEbob"))
    store.delete_long_term("alice")
    assert store.get_long_term("alice") is None
    assert store.list_long_term() == ["bob"]
    store.delete_long_term("nobody")  # absent: no error


def test_temporary_keys_are_not_long_term(aws_home) -> None:
    with pytest.raises(SecretStoreError, match="alice"):
        SecretStore().set_long_term("alice", SESSION)
    assert SecretStore().get_long_term("alice") is None


def test_set_long_term_verifies_the_read_back(aws_home, monkeypatch) -> None:
    store = SecretStore()
    monkeypatch.setattr(store, "_set", lambda key, value: None)  # a backend that silently drops writes
    with pytest.raises(SecretStoreError, match="did not return"):
        store.set_long_term("alice", LONG)


def test_mfa_session_round_trip_and_expiry(aws_home) -> None:
    store = SecretStore()
    assert store.get_mfa_session(SERIAL) is None
    store.set_mfa_session(SERIAL, SESSION)
    got = store.get_mfa_session(SERIAL)
    assert got == SESSION
    assert got.expiration.tzinfo is not None
    later = SESSION.expiration + timedelta(seconds=1)
    assert store.get_mfa_session(SERIAL, now=later) is None
    store.delete_mfa_session(SERIAL)
    assert store.get_mfa_session(SERIAL) is None


def test_mfa_session_needs_token_and_expiration(aws_home) -> None:
    with pytest.raises(SecretStoreError):
        SecretStore().set_mfa_session(SERIAL, LONG)


def test_secrets_not_in_repr(aws_home) -> None:
    SecretStore().set_long_term("alice", LONG)
    text = repr(SecretStore().get_long_term("alice"))
    assert LONG.secret_access_key not in text


def test_unrequested_plaintext_backend_is_refused(aws_home, monkeypatch) -> None:
    import keyring

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    from keyrings.alt.file import PlaintextKeyring

    keyring.set_keyring(PlaintextKeyring())  # the aws_home fixture restores the previous backend
    with pytest.raises(SecretStoreError, match="plaintext"):
        SecretStore().set_long_term("alice", LONG)
