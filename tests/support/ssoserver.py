"""Fixtures for the local SSO server (stsdash_demo.ssoserver).

- `sso_server`: a started SsoServer on 127.0.0.1 with 3 accounts x 2 roles, device codes approved only when
  a test says so (`sso_server.approve()` or a GET of the verification URL), no rate limit.
- `sso_server_factory`: call it with an SsoServerConfig (or keyword fields of one) to start more servers;
  all are stopped at teardown.
- `sso_env`: the aws_home fixture plus `AWS_ENDPOINT_URL_SSO` / `AWS_ENDPOINT_URL_SSO_OIDC` pointing at
  `sso_server`, an `[sso-session corp]` in the config, and botocore's SSO token cache directory pointed
  at aws_home (botocore fixes it from HOME at import time). Returns (aws_home, sso_server).

Helpers: `sso_session(server, aws_home, ...)` builds the SsoSession model, `sso_manager(aws_home)` an
SsoManager on the aws_home files, `sso_config_text(server)` the `[sso-session]` section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from stsdash_demo.ssoserver import SsoServer, SsoServerConfig, make_accounts

SESSION = "corp"
REGION = "us-east-1"


@pytest.fixture
def sso_server_factory() -> Iterator[Callable[..., SsoServer]]:
    started: list[SsoServer] = []

    def make(config: SsoServerConfig | None = None, **fields: object) -> SsoServer:
        if config is None:
            fields.setdefault("accounts", make_accounts(3, 2))
            config = SsoServerConfig(**fields)  # type: ignore[arg-type]
        server = SsoServer(config).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def sso_server(sso_server_factory: Callable[..., SsoServer]) -> SsoServer:
    return sso_server_factory()


def sso_config_text(server: SsoServer, session: str = SESSION, *, scopes: str | None = None) -> str:
    text = f"[sso-session {session}]\nsso_start_url = {server.start_url}\nsso_region = {REGION}\n"
    if scopes:
        text += f"sso_registration_scopes = {scopes}\n"
    return text


@pytest.fixture
def sso_env(aws_home, sso_server: SsoServer, monkeypatch: pytest.MonkeyPatch):
    for key in ("AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
        monkeypatch.setenv(key, sso_server.url)
        aws_home.env[key] = sso_server.url
    aws_home.write_config(sso_config_text(sso_server))
    point_botocore_at(aws_home, monkeypatch)
    return aws_home, sso_server


def point_botocore_at(aws_home, monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore computes ~/.aws/sso/cache when it is imported; make it use the test's home."""
    from botocore import credentials, tokens

    monkeypatch.setattr(credentials.SSOProvider, "_SSO_TOKEN_CACHE_DIR", str(aws_home.sso_cache))
    monkeypatch.setattr(tokens.SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", str(aws_home.sso_cache))


def sso_session(
    server: SsoServer,
    aws_home,
    name: str = SESSION,
    *,
    legacy: bool = False,
    scopes: list[str] | None = None,
):
    """An SsoSession (the profiles model) for `server`, as load_profiles would build it."""
    from stsdash.awsfiles.ssocache import token_filename
    from stsdash.profiles import SsoSession

    key = server.start_url if legacy else name
    return SsoSession(
        name=server.start_url if legacy else name,
        legacy=legacy,
        start_url=server.start_url,
        region=REGION,
        scopes=list(scopes or []),
        token_expires_at=None,
        token_refreshable=False,
        cache_file=aws_home.sso_cache / token_filename(key),
        profiles=[],
        problem=None,
    )


def sso_manager(aws_home):
    """An SsoManager reading the aws_home files and the current (monkeypatched) environment."""
    import os

    from stsdash.awsfiles.paths import aws_paths
    from stsdash.settings import Settings
    from stsdash.sso.manager import SsoManager

    env = dict(os.environ)
    return SsoManager(paths=aws_paths(env), settings=Settings(), env=env)
