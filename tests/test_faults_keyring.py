"""Long-term keys in a file keyring survive many processes storing MFA sessions at once.

keyrings.alt rewrites its whole file on every change, without a lock: two processes that read the
file, each add their entry and write it back lose one of the two, and a reader that catches the
file half-written sees nothing. stsdash serializes every keyring change across processes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from stsdash.creds import Credentials
from stsdash.secrets import SecretStore

ROUNDS = 20
PROCESSES = 8
LONG_TERM = Credentials("AKIAFAKEEXAMPLE00077", "FAKEsecretEXAMPLE/longTermKey00000000077")

# What `stsdash refresh` does with the keyring for an MFA profile: read the stored long-term keys,
# look for a stored session, store a fresh one.
WORKER = textwrap.dedent(
    """\
    import sys
    from datetime import UTC, datetime, timedelta
    from stsdash.creds import Credentials
    from stsdash.secrets import SecretStore

    n = int(sys.argv[1])
    store = SecretStore()
    assert store.get_long_term("alice") is not None, "long-term keys gone before the write"
    serial = f"arn:aws:iam::123456789012:mfa/dev{n}"
    store.get_mfa_session(serial)
    expires = datetime.now(UTC) + timedelta(hours=1)
    store.set_mfa_session(serial, Credentials(f"ASIAFAKEEXAMPLE{n:05d}", "FAKEsecret", "FAKEtoken", expires))
    """
)


@pytest.mark.slow
def test_parallel_session_writes_never_lose_long_term_keys(aws_home) -> None:
    store = SecretStore()
    store.set_long_term("alice", LONG_TERM)
    env = aws_home.subprocess_env()
    for round_ in range(ROUNDS):
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(n)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(PROCESSES)
        ]
        failures = []
        for worker in workers:
            _, err = worker.communicate(timeout=120)
            if worker.returncode != 0:
                failures.append(err.strip().splitlines()[-1:])
        assert not failures, f"round {round_}: {failures}"
        assert store.list_long_term() == ["alice"], f"round {round_}: the long-term keys are gone"
        assert store.get_long_term("alice") == LONG_TERM
        for n in range(PROCESSES):
            serial = f"arn:aws:iam::123456789012:mfa/dev{n}"
            assert store.get_mfa_session(serial) is not None, f"round {round_}: session {n} lost"


def test_a_chain_that_writes_to_a_plaintext_file_is_refused(aws_home, monkeypatch) -> None:
    """The guard looks at the backend the chain really writes to, not at the chain's class name."""
    import keyring
    from keyring.backends.chainer import ChainerBackend
    from keyrings.alt.file import PlaintextKeyring

    from stsdash.secrets import SecretStoreError

    class Chain(ChainerBackend):
        backends = (PlaintextKeyring(),)

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    monkeypatch.setattr(keyring, "get_keyring", lambda: Chain())
    with pytest.raises(SecretStoreError) as info:
        SecretStore().set_long_term("alice", LONG_TERM)
    assert "written by PlaintextKeyring, a plaintext file" in str(info.value)


def test_encrypted_keyring_without_its_crypto_library_is_a_message(aws_home, monkeypatch) -> None:
    import keyring

    from stsdash.secrets import SecretStoreError

    def broken():
        raise RuntimeError("pycryptodome/x required")

    monkeypatch.setattr(keyring, "get_keyring", broken)
    with pytest.raises(SecretStoreError) as info:
        SecretStore().get_long_term("alice")
    assert "pycryptodome" in str(info.value) and "cannot be used" in str(info.value)


def test_encrypted_keyring_without_crypto_through_the_cli(aws_home) -> None:
    """The real EncryptedKeyring with its crypto import made to fail: a message, exit 1, no traceback."""
    from tests.test_faults_corpus import run_cli

    patch = (
        "import keyrings.alt.file as f\n"
        "def _no_crypto(cls): raise ImportError('no Crypto')\n"
        "f.EncryptedKeyring._get_crypto_impl = classmethod(_no_crypto)\n"
    )
    proc = run_cli(aws_home, "keys", "list", patch=patch,
                   PYTHON_KEYRING_BACKEND="keyrings.alt.file.EncryptedKeyring")
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text, text
    assert proc.returncode != 0 and "keyring" in text, text
