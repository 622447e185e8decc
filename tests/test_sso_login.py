"""Both SSO login flows end to end against the local server; the test plays the browser."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest
import requests

from stsdash.awsfiles.ssocache import read_token, registration_filename, token_filename
from stsdash.errors import ProviderError, SsoLoginRequired
from stsdash.sso.login import LoginCancelled, LoginPrompt
from tests.support.ssoserver import SESSION, sso_manager, sso_session


def browser(prompt: LoginPrompt) -> None:
    """A user who opens the URL: GET it and follow the redirect to the loopback callback."""
    url = prompt.verification_uri_complete or prompt.verification_uri
    threading.Thread(target=requests.get, args=(url,), kwargs={"timeout": 10}, daemon=True).start()


def fast_poll(manager) -> list[float]:
    """Record the polling intervals the device flow asks for, but wait only briefly."""
    asked: list[float] = []

    def wait(cancel: threading.Event, seconds: float) -> bool:
        asked.append(seconds)
        return cancel.wait(0.05)

    manager.poll_wait = wait
    return asked


def test_device_flow_end_to_end(aws_home, sso_env):
    _, server = sso_env
    manager = sso_manager(aws_home)
    fast_poll(manager)
    server.config.enforce_interval = False
    prompts: list[LoginPrompt] = []

    def on_prompt(prompt: LoginPrompt) -> None:
        prompts.append(prompt)
        browser(prompt)

    token = manager.login(
        sso_session(server, aws_home), flow="device", on_prompt=on_prompt, open_browser=False
    )
    assert len(prompts) == 1 and prompts[0].user_code and "-" in prompts[0].user_code
    assert prompts[0].verification_uri == f"{server.url}/device"
    assert read_token(aws_home.sso_cache / token_filename(SESSION)).access_token == token.access_token
    assert server.logins == 1 and server.counts["RegisterClient"] == 1
    manager.login(sso_session(server, aws_home), flow="device", on_prompt=browser, open_browser=False)
    assert server.logins == 2 and server.counts["RegisterClient"] == 1  # registration reused


def test_pkce_end_to_end(aws_home, sso_env):
    _, server = sso_env
    manager = sso_manager(aws_home)
    seen: list[str] = []

    def on_prompt(prompt: LoginPrompt) -> None:
        seen.append(prompt.verification_uri)
        browser(prompt)

    session = sso_session(server, aws_home, scopes=["sso:account:access", "codewhisperer:completions"])
    token = manager.login(session, flow="pkce", on_prompt=on_prompt, open_browser=False)
    assert token.refresh_token and server.counts["CreateToken:authorization_code"] == 1
    url = urllib.parse.urlsplit(seen[0])
    assert url.path == "/authorize"
    assert "scopes=sso%3Aaccount%3Aaccess%20codewhisperer%3Acompletions" in url.query
    params = dict(urllib.parse.parse_qsl(url.query))
    assert params["code_challenge_method"] == "S256" and params["response_type"] == "code"
    assert len(params["code_challenge"]) == 43 and "=" not in params["code_challenge"]
    redirect = urllib.parse.urlsplit(params["redirect_uri"])
    assert redirect.hostname == "127.0.0.1" and redirect.port and redirect.path == "/oauth/callback"
    client = next(iter(server.clients.values()))
    assert client.redirect_uris == ["http://127.0.0.1/oauth/callback"]  # registered without a port
    assert client.grant_types == ["authorization_code", "refresh_token"]
    reg = aws_home.sso_cache / registration_filename(server.start_url, "us-east-1", session.scopes, SESSION)
    assert json.loads(reg.read_text())["grantTypes"] == ["authorization_code", "refresh_token"]
    # Device login after PKCE re-registers over the same file, like the CLI.
    server.config.auto_approve = True
    manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    assert server.counts["RegisterClient"] == 2 and "grantTypes" not in json.loads(reg.read_text())


def test_pkce_wrong_state_is_rejected(aws_home, sso_env):
    _, server = sso_env

    def forged_callback(prompt: LoginPrompt) -> None:
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(prompt.verification_uri).query))
        forged = params["redirect_uri"] + "?code=FAKECODE&state=not-the-state"
        threading.Thread(target=requests.get, args=(forged,), kwargs={"timeout": 5}, daemon=True).start()

    with pytest.raises(ProviderError, match="wrong state"):
        sso_manager(aws_home).login(
            sso_session(server, aws_home), flow="pkce", on_prompt=forged_callback, open_browser=False
        )
    assert server.logins == 0


def test_pkce_denied_in_browser(aws_home, sso_env):
    _, server = sso_env
    server.config.deny_authorize = True
    with pytest.raises(ProviderError, match="denied in the browser"):
        sso_manager(aws_home).login(
            sso_session(server, aws_home), flow="pkce", on_prompt=browser, open_browser=False
        )
    assert not (aws_home.sso_cache / token_filename(SESSION)).exists()


def test_device_denied_and_expired_codes(aws_home, sso_env):
    _, server = sso_env
    manager = sso_manager(aws_home)
    fast_poll(manager)
    server.config.enforce_interval = False

    def deny(prompt: LoginPrompt) -> None:
        server.deny(prompt.user_code)

    with pytest.raises(ProviderError, match="denied in the browser"):
        manager.login(sso_session(server, aws_home), flow="device", on_prompt=deny, open_browser=False)
    server.config.device_code_ttl = 1
    manager.poll_wait = lambda cancel, seconds: cancel.wait(0.6)
    with pytest.raises(ProviderError, match="expired") as err:
        manager.login(
            sso_session(server, aws_home), flow="device", on_prompt=lambda p: None, open_browser=False
        )
    assert "login again" in str(err.value).lower()


def test_slow_down_adds_five_seconds(aws_home, sso_env):
    _, server = sso_env
    manager = sso_manager(aws_home)
    asked = fast_poll(manager)  # polls every 0.05 s although the server asked for 1 s: it says slow_down

    def approve_later(prompt: LoginPrompt) -> None:
        threading.Timer(0.4, server.approve, args=(prompt.user_code,)).start()

    manager.login(sso_session(server, aws_home), flow="device", on_prompt=approve_later, open_browser=False)
    assert server.counts["slow_down"] >= 2
    assert asked[:3] == [1.0, 6.0, 11.0]


def test_cancel_device_and_pkce(aws_home, sso_env):
    _, server = sso_env
    manager = sso_manager(aws_home)
    cancel = threading.Event()
    fast_poll(manager)
    server.config.enforce_interval = False
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(LoginCancelled):
        manager.login(
            sso_session(server, aws_home),
            flow="device",
            on_prompt=lambda p: None,
            open_browser=False,
            cancel=cancel,
        )
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(LoginCancelled):
        manager.login(
            sso_session(server, aws_home),
            flow="pkce",
            on_prompt=lambda p: None,
            open_browser=False,
            cancel=cancel,
        )
    assert time.monotonic() - started < 5
    assert server.logins == 0


def test_revoked_token_gives_cli_like_message(aws_home, sso_env):
    _, server = sso_env
    server.config.auto_approve = True
    manager = sso_manager(aws_home)
    session = sso_session(server, aws_home)
    manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    server.revoke_all()
    with pytest.raises(SsoLoginRequired) as err:
        manager.role_credentials(session, "100000000000", "AdministratorAccess")
    assert "has expired or is otherwise invalid" in str(err.value)
    assert f"stsdash sso login {SESSION}" in str(err.value)


def test_expired_registration_reregisters(aws_home, sso_env):
    _, server = sso_env
    server.config.auto_approve = True
    manager = sso_manager(aws_home)
    session = sso_session(server, aws_home)
    manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    server.expire_registrations()  # revoked server-side; the cached file still looks valid
    manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    assert server.counts["RegisterClient"] == 2 and server.logins == 2


def test_logout_revokes_and_deletes(aws_home, sso_env):
    _, server = sso_env
    server.config.auto_approve = True
    manager = sso_manager(aws_home)
    session = sso_session(server, aws_home)
    token = manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    manager.logout(session)
    assert manager.token(session) is None
    assert server.tokens[token.access_token].revoked
    with pytest.raises(SsoLoginRequired):
        manager.ensure_token(session)


def test_concurrent_threads_make_one_login(aws_home, sso_env):
    _, server = sso_env
    managers = [sso_manager(aws_home) for _ in range(6)]
    for manager in managers:
        fast_poll(manager)
    server.config.enforce_interval = False
    prompts: list[LoginPrompt] = []
    barrier = threading.Barrier(len(managers))
    tokens: list[str] = []

    def on_prompt(prompt: LoginPrompt) -> None:
        prompts.append(prompt)
        threading.Timer(0.5, browser, args=(prompt,)).start()  # others queue up meanwhile

    def call(manager) -> None:
        barrier.wait()
        token = manager.login(
            sso_session(server, aws_home), flow="device", on_prompt=on_prompt, open_browser=False
        )
        tokens.append(token.access_token)

    threads = [threading.Thread(target=call, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(tokens) == 6 and len(set(tokens)) == 1
    assert server.logins == 1 and len(prompts) == 1  # one browser tab, not six


CHILD = """
import os, sys
from tests.support.ssoserver import sso_manager, sso_session
from types import SimpleNamespace
from pathlib import Path
aws_home = SimpleNamespace(sso_cache=Path(os.environ["HOME"]) / ".aws" / "sso" / "cache")
server = SimpleNamespace(start_url=sys.argv[1])
manager = sso_manager(aws_home)
manager.poll_wait = lambda cancel, seconds: cancel.wait(0.1)
print("start", flush=True)
token = manager.login(sso_session(server, aws_home), flow="device",
                      on_prompt=lambda p: print("prompt", flush=True), open_browser=False)
import hashlib
print("token", hashlib.sha256(token.access_token.encode()).hexdigest()[:12], flush=True)
"""


def test_three_processes_make_one_login(aws_home, sso_env):
    _, server = sso_env
    server.config.enforce_interval = False
    env = aws_home.subprocess_env(PYTHONPATH=str(__import__("pathlib").Path(__file__).parents[1]))
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, server.start_url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for child in children:  # every child is inside login() (or about to be) before anyone is approved
            assert child.stdout.readline().strip() == "start"
        time.sleep(1.0)
        deadline = time.monotonic() + 20
        while not server.pending_user_codes() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.approve() == 1
        for child in children:
            child.wait(timeout=30)
        # Read through the buffered pipes readline() used; communicate() would skip their buffers.
        outputs = [(child.stdout.read(), child.stderr.read()) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    assert all(child.returncode == 0 for child in children), [err for _, err in outputs]
    hashes = {line.split()[1] for out, _ in outputs for line in out.splitlines() if line.startswith("token")}
    prompts = sum(out.count("prompt") for out, _ in outputs)
    assert len(hashes) == 1 and prompts == 1
    assert server.logins == 1 and server.counts["StartDeviceAuthorization"] == 1
