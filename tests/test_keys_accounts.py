"""`stsdash keys list`: every long-term key with the account it belongs to (GetAccessKeyInfo through
moto), looked up once and then read from the cache, which never names a key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.test_engine import write_profiles


@pytest.fixture
def world(aws_home, sts_proxy, moto_auth, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    return write_profiles(aws_home, sts_proxy, moto_auth.seed)


def stsdash(aws_home, *args: str) -> subprocess.CompletedProcess:
    env = aws_home.subprocess_env(AWS_ENDPOINT_URL_STS=os.environ["AWS_ENDPOINT_URL_STS"])
    return subprocess.run([sys.executable, "-m", "stsdash", *args], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_keys_list_names_the_account_once_then_from_the_cache(world, aws_home, sts_proxy) -> None:
    assert stsdash(aws_home, "keys", "import", "alice").returncode == 0
    run = stsdash(aws_home, "keys", "list")
    assert run.returncode == 0, run.stderr
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    masked = "…" + world.access_key_id[-4:]
    assert rows == [
        ["alice", masked, "keyring", "123456789012"],
        ["bob", masked, "credentials", "123456789012"],
    ]
    assert sts_proxy.calls["GetAccessKeyInfo"] == 1  # the same key twice: one lookup
    again = stsdash(aws_home, "keys", "list")
    assert again.stdout == run.stdout
    assert sts_proxy.calls["GetAccessKeyInfo"] == 1
    cache = aws_home.root / "xdg-cache" / "stsdash" / "key-accounts.json"
    assert "123456789012" in cache.read_text() and world.access_key_id not in cache.read_text()
    assert world.access_key_id not in run.stdout + run.stderr


def test_keys_list_without_lookup_and_with_sts_down(world, aws_home, sts_proxy) -> None:
    offline = stsdash(aws_home, "keys", "list", "--no-lookup")
    assert offline.returncode == 0 and offline.stdout.split("\t")[-1].strip() == "?"
    sts_proxy.inject_error("AccessDenied", "not allowed", status=403, action="GetAccessKeyInfo", count=2)
    run = stsdash(aws_home, "keys", "list")
    assert run.returncode == 0
    assert "? (profile alice: GetAccessKeyInfo failed: AccessDenied" in run.stdout
    assert "? (profile bob: GetAccessKeyInfo failed" in run.stdout  # a failure is never cached
    assert sts_proxy.calls["GetAccessKeyInfo"] == 2
