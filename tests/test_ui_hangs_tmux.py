"""The real dashboard in tmux against an STS that accepts and never answers (or trickles a byte a
second): `q` gives the terminal back at once, escape cancels the refresh, nothing is written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.awsenv import make_aws_home
from tests.support.stallserver import stall_server, wait_for
from tests.test_faults_corpus import snapshot
from tests.test_hangs import KEY_ID, SECRET
from tests.test_ui_tmux import Tmux, row

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def _start(tmp_path: Path, sts_url: str, name: str) -> tuple[Tmux, Path]:
    aws = make_aws_home(tmp_path)
    aws.write_config(
        "[profile alice]\nregion = us-east-1\n\n"
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = alice\n"
        "region = us-east-1\n"
    )
    aws.write_credentials(f"[alice]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    aws.settings.parent.mkdir(parents=True, exist_ok=True)
    aws.settings.write_text("call_deadline = 300\nread_timeout = 300\n")  # the server holds every call
    env = aws.subprocess_env(AWS_ENDPOINT_URL_STS=sts_url, TERM="xterm-256color", PYTHONPATH=str(ROOT))
    tmux = Tmux(f"stsdash-hang-{os.getpid()}-{name}", "dash")
    done = tmp_path / "exit-status"
    command = f"{sys.executable} -m stsdash tui --no-browser; echo $? > {done}; sleep 600"
    subprocess.run([*tmux.base, "-f", "/dev/null", "new-session", "-d", "-s", tmux.session, "-x", "120",
                    "-y", "32", "sh", "-c", command], env=env, cwd=aws.home, check=True, timeout=10)
    return tmux, done


def _refresh_dev(tmux: Tmux) -> None:
    tmux.wait(lambda s: "assume-role" in row(s, "dev"), what="the dashboard")
    tmux.keys("/")
    tmux.wait(lambda s: "enter keeps it" in s, what="the filter box")
    tmux.keys("d", "e", "v")
    tmux.wait(lambda s: row(s, "alice") == "", what="the filter")
    tmux.keys("Enter")
    time.sleep(0.3)
    tmux.keys("r")
    tmux.wait(lambda s: "refreshing" in row(s, "dev"), what="the refresh to start")


def _wait_exit(done: Path, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done.exists() and done.read_text().strip():
            return int(done.read_text())
        time.sleep(0.05)
    raise AssertionError(f"the dashboard did not exit within {timeout} s")


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_q_quits_at_once_while_a_refresh_waits_on_the_network(tmp_path: Path, mode: str) -> None:
    with stall_server(mode) as server:
        tmux, done = _start(tmp_path, server.url, mode)
        try:
            _refresh_dev(tmux)
            wait_for(server.accepted, "the refresh to reach STS", timeout=30)
            before = snapshot(tmp_path / "home")
            tmux.keys("q")
            # The server would hold the call for five minutes; a few seconds' slack for a loaded machine.
            assert _wait_exit(done, timeout=10) == 0
            assert snapshot(tmp_path / "home") == before  # nothing half-written
        finally:
            subprocess.run([*tmux.base, "kill-server"], capture_output=True)


def test_escape_cancels_a_refresh_in_progress(tmp_path: Path) -> None:
    with stall_server("silent") as server:
        tmux, done = _start(tmp_path, server.url, "escape")
        try:
            _refresh_dev(tmux)
            wait_for(server.accepted, "the refresh to reach STS", timeout=30)
            busy = tmux.wait(lambda s: "escape cancels" in s, timeout=10, what="the refresh in progress")
            assert "Refreshing" in busy
            tmux.keys("Escape")
            after = tmux.wait(lambda s: "cancelled" in row(s, "dev") or "cancelled" in s, timeout=10,
                              what="the refresh to be cancelled")
            assert "escape cancels" not in after
            assert not (tmp_path / "home" / ".aws" / "credentials").read_text().count("dev-session")
            tmux.keys("q")
            assert _wait_exit(done, timeout=10) == 0
        finally:
            subprocess.run([*tmux.base, "kill-server"], capture_output=True)
