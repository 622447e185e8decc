"""moto server fixtures (auth on and off) and the STS proxy in front of them.

Fixture names:

* `moto_auth` (session): a moto server on 127.0.0.1 with IAM authentication ON, seeded by
  `stsdash_demo.moto.seed_moto`. Yields a `MotoServer`: `.url`, `.seed` (user keys, role ARNs:
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

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from stsdash.creds import Credentials
from stsdash_demo.moto import MotoProcess, MotoSeed, enable_moto_auth, free_port, seed_moto
from stsdash_demo.stsproxy import StsProxy

__all__ = ["MotoServer", "free_port", "start_moto", "stop_moto"]


@dataclass
class MotoServer:
    url: str
    process: MotoProcess
    seed: MotoSeed | None = None

    @property
    def user_creds(self) -> Credentials:
        assert self.seed is not None, "this server was not seeded"
        return Credentials(self.seed.access_key_id, self.seed.secret_access_key)


def start_moto(*, port: int | None = None, timeout: float = 30.0) -> MotoServer:
    """Start `python -m moto.server` on 127.0.0.1 (the demo's starter) and wait until it answers."""
    process = MotoProcess(port).start(timeout)
    return MotoServer(process.url, process)


def stop_moto(server: MotoServer) -> None:
    server.process.stop()


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
