"""Never hold the user: stalled, trickling and endless endpoints are cut short with a clear message,
and Ctrl-C leaves any command at once with status 130, whatever the network does."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from tests.support.awsenv import AwsHome
from tests.support.stallserver import stall_server, wait_for
from tests.test_faults_corpus import assert_untouched, expect, run_cli, snapshot

KEY_ID = "AKIAFAKEEXAMPLE00001"
SECRET = "FAKEsecretEXAMPLEkey000000000000000000000"


@pytest.fixture
def stall_home(aws_home: AwsHome) -> AwsHome:
    """`dev` assumes a role with alice's (fake) keys; STS is whatever the test points it at."""
    aws_home.write_config(
        textwrap.dedent(
            """\
            [profile alice]
            region = us-east-1

            [profile dev]
            role_arn = arn:aws:iam::123456789012:role/dev
            source_profile = alice
            region = us-east-1
            """
        )
    )
    aws_home.write_credentials(
        f"[alice]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    )
    aws_home.settings.parent.mkdir(parents=True, exist_ok=True)
    return aws_home


def settings(aws_home: AwsHome, **values: float) -> None:
    aws_home.settings.write_text("".join(f"{k} = {v}\n" for k, v in values.items()))


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_stalled_sts_is_cut_at_the_call_deadline_with_a_clear_message(stall_home, mode: str) -> None:
    """A server that never answers, or answers a byte a second (which no read timeout catches)."""
    settings(stall_home, call_deadline=2, read_timeout=60)
    before = snapshot(stall_home.home)
    with stall_server(mode) as server:
        proc = run_cli(stall_home, "refresh", "dev", AWS_ENDPOINT_URL_STS=server.url, timeout=60)
    expect(
        proc,
        1,
        f"FAILED dev: profile dev: AssumeRole: cannot reach STS at {server.url}/: "
        "no complete answer within 2 s",
        "check the endpoint URL, your VPN and proxy settings",
        "call_deadline",
    )
    assert_untouched(before, stall_home)


@pytest.mark.parametrize("mode", ["endless", "gzip"])
def test_endless_or_bomb_answers_stop_at_the_size_cap(stall_home, mode: str) -> None:
    """An endless chunked body or a 1 GiB gzip bomb: refused after a few MB, not read to the end."""
    before = snapshot(stall_home.home)
    patch = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))"
    with stall_server(mode) as server:
        proc = run_cli(stall_home, "refresh", "dev", AWS_ENDPOINT_URL_STS=server.url, patch=patch, timeout=60)
    expect(proc, 1, f"cannot reach STS at {server.url}/: the answer is far larger than any STS answer")
    assert_untouched(before, stall_home)


def test_connect_and_read_timeouts_come_from_config_toml(stall_home) -> None:
    settings(stall_home, read_timeout=1, call_deadline=60)
    with stall_server("silent") as server:
        proc = run_cli(stall_home, "refresh", "dev", AWS_ENDPOINT_URL_STS=server.url, timeout=60)
    expect(proc, 1, f"cannot reach STS at {server.url}/: timed out waiting for the answer")


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", '"10"', "true", "100000"])
def test_bad_timeouts_are_refused(stall_home, value: str) -> None:
    stall_home.settings.write_text(f"call_deadline = {value}\n")
    proc = run_cli(stall_home, "list")
    expect(proc, 2, "call_deadline: must be a number of seconds from 1 to 600")


COMMANDS = [
    ["refresh", "dev"],
    ["whoami", "alice"],
    ["credential-process", "dev"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_ctrl_c_leaves_at_once_with_130(stall_home, command: list[str]) -> None:
    """The endpoint would hold the call for two minutes; SIGINT must not wait for it."""
    settings(stall_home, call_deadline=120, read_timeout=120)
    before = snapshot(stall_home.home)
    code = "import sys\nfrom stsdash.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    with stall_server("silent") as server:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-c", code, *command],
            env=stall_home.subprocess_env(AWS_ENDPOINT_URL_STS=server.url),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=stall_home.home,
        )
        try:
            wait_for(server.accepted, "the request to reach the stalled server")
            proc.send_signal(signal.SIGINT)
            # The server holds the call for 120 s; a few seconds of slack for a loaded test machine.
            stdout, stderr = proc.communicate(timeout=10)
        finally:
            proc.kill()
    assert proc.returncode == 130, (stdout, stderr)
    assert "stsdash: interrupted" in stderr and "Traceback" not in stderr, stderr
    assert_untouched(before, stall_home)


def test_settings_in_a_fifo_or_a_device_are_refused_at_once(stall_home, tmp_path) -> None:
    """STSDASH_CONFIG pointing at a FIFO blocked every command forever; /dev/zero never ends."""
    import os

    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        proc = run_cli(stall_home, "list", STSDASH_CONFIG=str(path), timeout=30)
        expect(proc, 2, f"{path}: cannot read (not a regular file")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("target_template", "{profile}{profile:x>300000000}"),
        ("target_template", "{profile!r}-session"),
        ("target_template", "{profile.__class__}"),
        ("sso_profile_template", "{account_name:>999999999}.{role_name}"),
    ],
)
def test_templates_with_format_specs_are_refused(stall_home, key: str, value: str) -> None:
    """A format spec in a template made every profile name 300 MB (3.7 GB for a list)."""
    patch = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))"
    stall_home.settings.write_text(f"{key} = {value!r}\n".replace("'", '"'))
    proc = run_cli(stall_home, "list", patch=patch)
    expect(proc, 2, f"{key}: placeholder", "is not allowed")


def test_web_identity_token_file_that_is_a_fifo_is_refused_at_once(stall_home, tmp_path) -> None:
    import os

    fifo = tmp_path / "token.fifo"
    os.mkfifo(fifo)
    stall_home.write_config(
        "[profile wi]\nrole_arn = arn:aws:iam::123456789012:role/dev\n"
        f"web_identity_token_file = {fifo}\nregion = us-east-1\n"
    )
    before = snapshot(stall_home.home)
    proc = run_cli(stall_home, "refresh", "wi", timeout=30)
    expect(proc, 1, f"cannot read web_identity_token_file {fifo}", "not a regular file")
    assert_untouched(before, stall_home)
