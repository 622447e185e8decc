"""moto server fixtures (auth on and off) and the STS proxy in front of them.

Fixture names:

* `moto_auth` (session): a moto server on 127.0.0.1 with IAM authentication ON, seeded by
  `stsdash.demo.stsproxy.seed_moto`. Yields a `MotoServer`: `.url`, `.seed` (user keys, role ARNs:
  dev, admin, partner [ExternalId EXTID-TEST-1], locked [AssumeRole denied], chained), `.user_creds`
  (Credentials of the seeded user). Signatures and IAM policies are really checked.
* `moto_noauth` (session): a moto server with auth OFF (any key works; nothing is checked).
* `sts_proxy_server` (session): an `StsProxy` in front of `moto_auth`, the seeded user's key
  registered (so GetSessionToken session keys are verified by the proxy and re-signed).
* `sts_proxy` (function): the same proxy, `reset()` before and after each test (counts, records,
  injected faults, MFA rules). Use `sts_proxy.url` as the STS endpoint.
* `sts_client` (function): an `StsClient` pointed at `sts_proxy`, region us-east-1, no backoff sleep.
* `user_creds` (function): the seeded user's long-term `Credentials`.

Each server is a separate `python -m moto.server` process, so auth settings and state do not leak
between them or into the test process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from stsdash.creds import Credentials
from stsdash.demo.stsproxy import MotoSeed, StsProxy, enable_moto_auth, seed_moto

_NO_PROXY = {"http": None, "https": None}


@dataclass
class MotoServer:
    url: str
    process: subprocess.Popen
    seed: MotoSeed | None = None

    @property
    def user_creds(self) -> Credentials:
        assert self.seed is not None, "this server was not seeded"
        return Credentials(self.seed.access_key_id, self.seed.secret_access_key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(*, port: int | None = None, timeout: float = 30.0) -> MotoServer:
    """Start `python -m moto.server` on 127.0.0.1 and wait until it answers."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "AKIDFAKEEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "FAKE-EXAMPLE-SECRET",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with status {process.returncode}")
        try:
            requests.get(url + "/moto-api/", timeout=1, proxies=_NO_PROXY)
            return MotoServer(url, process)
        except requests.RequestException:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("moto server did not start in time")


def stop_moto(server: MotoServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def moto_auth() -> Iterator[MotoServer]:
    server = start_moto()
    try:
        server.seed = seed_moto(server.url)
        enable_moto_auth(server.url)
        yield server
    finally:
        stop_moto(server)


@pytest.fixture(scope="session")
def moto_noauth() -> Iterator[MotoServer]:
    server = start_moto()
    try:
        yield server
    finally:
        stop_moto(server)


@pytest.fixture(scope="session")
def sts_proxy_server(moto_auth: MotoServer) -> Iterator[StsProxy]:
    assert moto_auth.seed is not None
    proxy = StsProxy(moto_auth.url)
    proxy.register_key(moto_auth.seed.access_key_id, moto_auth.seed.secret_access_key)
    with proxy:
        yield proxy


@pytest.fixture
def sts_proxy(sts_proxy_server: StsProxy) -> Iterator[StsProxy]:
    sts_proxy_server.reset()
    yield sts_proxy_server
    sts_proxy_server.reset()


@pytest.fixture
def user_creds(moto_auth: MotoServer) -> Credentials:
    return moto_auth.user_creds


@pytest.fixture
def sts_client(sts_proxy: StsProxy):
    from stsdash.providers.sts import StsClient

    client = StsClient(endpoint_url=sts_proxy.url, signing_region="us-east-1", timeout=10.0, profile="test")
    client.sleep = lambda _seconds: None
    return client
