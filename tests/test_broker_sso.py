"""An expired SSO session, many callers without a terminal: the dashboard logs in once for all of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

from stsdash.awsfiles.paths import aws_paths
from stsdash.engine import RefreshEngine
from stsdash.settings import Settings
from stsdash.sso.manager import SsoManager
from stsdash.ui.app import StsdashApp
from stsdash.ui.screens.sso_login import SsoLoginScreen
from tests.support.ssoserver import SESSION

CALLERS = 5


async def until(pilot, condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        await pilot.pause(0.05)


def write_sso_profiles(aws_home, server) -> list[str]:
    accounts = list(server.accounts.values())
    names, text = [], aws_home.config.read_text()
    for i in range(CALLERS):
        account = accounts[i % len(accounts)]
        role = account.roles[i // len(accounts) % len(account.roles)]
        name = f"sso{i}"
        names.append(name)
        text += (f"\n[profile {name}]\nsso_session = {SESSION}\nsso_account_id = {account.account_id}\n"
                 f"sso_role_name = {role}\nregion = us-east-1\n")
    aws_home.write_config(text)
    return names


async def test_one_sso_login_in_the_dashboard_for_every_caller(sso_env):
    aws_home, server = sso_env
    names = write_sso_profiles(aws_home, server)
    env = dict(os.environ)
    sso = SsoManager(paths=aws_paths(env), settings=Settings(), env=env)
    app = StsdashApp(engine=RefreshEngine(settings=Settings(), sso=sso), sso=sso, watch_files=False,
                     broker=True, open_browser=False, sso_flow="device")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.loaded.wait()
        assert app.broker_link is not None
        await until(pilot, lambda: app.broker_link.listening, what="the prompt socket")
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "stsdash", "credential-process", name],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                env=aws_home.subprocess_env(PYTHONPATH=os.getcwd()),
            )
            for name in names
        ]
        await until(pilot, lambda: isinstance(app.screen, SsoLoginScreen), what="the SSO login modal")
        login_modal = app.screen
        await until(pilot, lambda: bool(server.pending_user_codes()), what="a device code")
        await until(pilot, lambda: len(app.broker_link.prompts) >= 1, what="a pending login in the view")
        assert {p.kind for p in app.broker_link.prompts} == {"SSO login"}
        server.approve()
        others: list[object] = []

        def all_done() -> bool:
            if isinstance(app.screen, SsoLoginScreen) and app.screen is not login_modal:
                others.append(app.screen)
            return all(p.poll() is not None for p in procs)

        await until(pilot, all_done, timeout=120, what="the callers")
    outputs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0] * CALLERS, [err for _out, err in outputs]
    assert others == []
    assert server.logins == 1
    assert all(json.loads(out)["Version"] == 1 for out, _err in outputs)


def test_without_a_dashboard_an_expired_sso_session_says_how_to_log_in(sso_env):
    aws_home, server = sso_env
    (name, *_rest) = write_sso_profiles(aws_home, server)
    result = subprocess.run(
        [sys.executable, "-m", "stsdash", "credential-process", name], capture_output=True, text=True,
        start_new_session=True, env=aws_home.subprocess_env(PYTHONPATH=os.getcwd()), timeout=60, check=False,
    )
    assert result.returncode == 1
    assert "sso login" in result.stderr
    assert server.logins == 0
