"""The real `stsdash demo` binary in a real terminal (tmux): refresh a role that needs MFA, type a code,
see the countdown restart."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


class Tmux:
    def __init__(self, socket: str, session: str) -> None:
        self.base = ["tmux", "-L", socket]
        self.session = session

    def run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, check=check, timeout=10)
        return done.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session, check=False)

    def wait(self, condition: Callable[[str], bool], timeout: float = 30.0, what: str = "") -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{text}")
            time.sleep(0.2)

    def alive(self) -> bool:
        done = subprocess.run([*self.base, "has-session", "-t", self.session], capture_output=True)
        return done.returncode == 0


def row(screen: str, name: str) -> str:
    for line in screen.splitlines():
        if re.match(rf"^\s*{re.escape(name)}\s", line):
            return line
    return ""


def test_demo_refresh_with_mfa_in_tmux(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STSDASH_", "PYTHON_KEYRING"))}
    env.update(HOME=str(tmp_path), TERM="xterm-256color", PYTHONPATH=str(ROOT))
    tmux = Tmux(f"stsdash-test-{os.getpid()}", "demo")
    command = f"{sys.executable} -m stsdash demo"
    subprocess.run([*tmux.base, "-f", "/dev/null", "new-session", "-d", "-s", tmux.session, "-x", "120",
                    "-y", "32", command], env=env, cwd=ROOT, check=True, timeout=10)
    try:
        tmux.wait(lambda s: "dev-admin" in s and "no keys yet" in row(s, "dev-admin"), what="the dashboard")
        tmux.keys("Down", "Down")
        time.sleep(0.3)
        tmux.keys("r")
        modal = tmux.wait(lambda s: "MFA code" in s, what="the MFA modal")
        assert "arn:aws:iam::111111111111:mfa/alice" in modal
        assert "dev-admin" in modal
        tmux.keys("1", "2", "3", "4", "5", "6")
        time.sleep(0.2)
        tmux.keys("Enter")
        first = tmux.wait(lambda s: "✓" in row(s, "dev-admin"), what="the refresh result")
        countdown = re.search(r"(\d+m \d\ds|1h 00m)", row(first, "dev-admin"))
        assert countdown, row(first, "dev-admin")
        assert countdown.group(1) in ("1h 00m", "59m 59s", "59m 58s", "59m 57s", "59m 56s", "59m 55s")
        # It ticks: a couple of seconds later the same row shows a smaller countdown.
        later = tmux.wait(lambda s: (m := re.search(r"59m (\d\d)s", row(s, "dev-admin"))) is not None
                          and m.group(0) != countdown.group(1), timeout=5, what="the countdown to tick")
        assert "✓" in row(later, "dev-admin")
        tmux.keys("q")
        deadline = time.monotonic() + 15
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not tmux.alive(), "q did not quit"
        assert not (tmp_path / ".aws").exists()  # the demo used its own temporary home
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True)


def start_demo(tmp_path: Path, name: str, width: int, height: int) -> Tmux:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STSDASH_", "PYTHON_KEYRING"))}
    env.update(HOME=str(tmp_path), TERM="xterm-256color", PYTHONPATH=str(ROOT))
    tmux = Tmux(f"stsdash-test-{name}-{os.getpid()}", name)
    command = f"{sys.executable} -m stsdash demo"
    subprocess.run([*tmux.base, "-f", "/dev/null", "new-session", "-d", "-s", tmux.session, "-x", str(width),
                    "-y", str(height), command], env=env, cwd=ROOT, check=True, timeout=10)
    return tmux


def test_slash_and_a_filter_typed_in_one_burst_refresh_nothing(tmp_path: Path) -> None:
    tmux = start_demo(tmp_path, "burst", 100, 30)
    try:
        tmux.wait(lambda s: "no keys yet" in row(s, "dev-admin"), what="the dashboard")
        tmux.keys("Down", "Down")  # dev-admin: `r` here would refresh it (and ask for a code)
        tmux.wait(lambda s: "Admin ← alice" in s or "assume-role" in s.splitlines()[-2], what="the row")
        tmux.run("send-keys", "-t", tmux.session, "-l", "/ro")  # one write: as fast as a paste
        # Filtered: "ro" is in the box, and the default profile (nothing in it matches "ro") is gone.
        shown = tmux.wait(lambda s: s.splitlines()[1].strip() == "ro" and " default " not in s,
                          what="the filter's matches")
        assert "ro" in shown and "MFA code" not in shown
        assert "refreshing" not in shown
        tmux.keys("Enter")  # keeps the filter and goes back to the table, whose footer offers details
        tmux.wait(lambda s: "Details" in s.rstrip("\n").splitlines()[-1], what="the table's footer")
        tmux.keys("?")  # then a modal: every earlier key has been handled
        helped = tmux.wait(lambda s: "this help" in s, what="help")
        assert "Unlocks" not in helped and "Device  arn:" not in helped  # no MFA prompt behind it
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True)


def test_help_and_quit_are_visible_and_work_at_80x24(tmp_path: Path) -> None:
    tmux = start_demo(tmp_path, "small", 80, 24)
    try:
        def footer(screen: str) -> str:
            return screen.rstrip("\n").splitlines()[-1] if screen.strip() else ""

        # The footer settles a moment after the rows show: wait for it, then it must hold both keys.
        screen = tmux.wait(lambda s: "dev-admin" in s and "Quit" in footer(s), what="the footer")
        assert "? Help" in footer(screen) and "q Quit" in footer(screen), footer(screen)
        tmux.keys("?")
        tmux.wait(lambda s: "this help" in s, what="help")
        tmux.keys("Escape")
        tmux.wait(lambda s: "this help" not in s, what="help closed")
        tmux.keys("q")
        deadline = time.monotonic() + 15
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not tmux.alive(), "q did not quit"
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True)
