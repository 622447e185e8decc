"""Injection into the terminal: control bytes from files, servers and programs never reach it raw.

An OSC 52 clipboard write, a screen clear, a C1 CSI or a bidi override in a profile name, a value, an
STS reason phrase or a program's stderr is shown escaped (\\u001b...) by every command, and by the
dashboard's cells and notifications. Part of the hostile-input corpus.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

import pytest

from stsdash.terminal import printable
from tests import test_faults_corpus as corpus
from tests.test_faults_corpus import run_cli

sts_home = corpus.sts_home

OSC52 = "\x1b]52;c;RkFLRS1DTElQQk9BUkQ=\x07"
CLEAR = "\x1b[2J\x1b[H"
C1_CSI = "\x9b2J"
BIDI = "\u202e"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2028")


def assert_no_raw_controls(text: str) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} reached the terminal: {text!r}"


CONFIG_CASES = [
    ("profile-name", f"[profile evil{OSC52}x]\nregion = us-east-1\n", "evil\\u001b]52;c;"),
    ("region-value", f"[profile p]\nregion = us{CLEAR}\n", "us\\u001b[2J"),
    ("c1-csi", f"[profile c1{C1_CSI}]\nregion = us-east-1\n", "c1\\u009b2J"),
    ("bidi", f"[profile {BIDI}nimda]\nregion = us-east-1\n", "\\u202enimda"),
]


@pytest.mark.parametrize(("config", "shown"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
@pytest.mark.parametrize("command", [["list"], ["list", "--json"], ["refresh", "--all"]],
                         ids=["list", "list-json", "refresh-all"])
def test_control_bytes_in_the_files_are_shown_escaped(aws_home, config: str, shown: str,
                                                      command: list[str]) -> None:
    aws_home.config.write_bytes(config.encode())
    proc = run_cli(aws_home, *command)
    text = proc.stdout + proc.stderr
    assert_no_raw_controls(text)
    assert "Traceback" not in text, text
    if command == ["list"]:
        assert shown in text, text
    if command == ["list", "--json"]:
        json.loads(proc.stdout)  # the escapes stay valid JSON


def test_sts_reason_phrase_is_shown_escaped(sts_home, sts_proxy) -> None:
    # XML 1.0 cannot carry ESC or BEL (the parser refuses them); C1 controls and bidi marks it can.
    sts_proxy.inject_error("AccessDenied", f"no{C1_CSI}{BIDI}way", status=403, count=5)
    proc = run_cli(sts_home, "refresh", "dev")
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert_no_raw_controls(text)
    assert "no\\u009b2J\\u202eway" in text, text


def test_credential_process_stderr_is_shown_escaped(aws_home) -> None:
    script = aws_home.root / "fail.py"
    script.write_text(f"import sys\nsys.stderr.write({OSC52 + CLEAR + 'boom'!r})\nsys.exit(3)\n")
    aws_home.write_config(
        f"[profile p]\ncredential_process = {sys.executable} {script}\n\n"
        "[profile viaproc]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = p\n"
        "region = us-east-1\n"
    )
    proc = run_cli(aws_home, "refresh", "viaproc")
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert_no_raw_controls(text)
    assert "exited with status 3" in text and "boom" in text, text


def test_mfa_process_stderr_and_command_line_are_safe(sts_home) -> None:
    script = sts_home.root / "mfa.py"
    script.write_text(f"import sys\nsys.stderr.write({OSC52 + 'no code'!r})\nsys.exit(1)\n")
    text = sts_home.config.read_text().replace(
        "mfa_serial = ", f"mfa_process = {sys.executable} {script} --password=hunter2EXAMPLE\nmfa_serial = "
    )
    sts_home.config.write_text(text)
    proc = run_cli(sts_home, "refresh", "mfadev")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert_no_raw_controls(out)
    assert "hunter2EXAMPLE" not in out
    assert "mfa_process 'python" in out, out


def test_mfa_process_timeout_names_the_program_only(sts_home) -> None:
    script = sts_home.root / "slow.py"
    script.write_text("import time\ntime.sleep(60)\n")
    text = sts_home.config.read_text().replace(
        "mfa_serial = ", f"mfa_process = {sys.executable} {script} --password=hunter2EXAMPLE\nmfa_serial = "
    )
    sts_home.config.write_text(text)
    patch = "import stsdash.refresh.run as r\nr.run_mfa_process.__kwdefaults__['timeout'] = 0.5\n"
    proc = run_cli(sts_home, "refresh", "mfadev", patch=patch)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "hunter2EXAMPLE" not in out and "slow.py" not in out, out
    assert "did not print a code within 0.5 s" in out, out


def test_dashboard_cells_escape_control_bytes(aws_home) -> None:
    from stsdash.profiles import load_profiles
    from stsdash.ui.rows import RowState, profile_cells

    aws_home.config.write_bytes(f"[profile evil{OSC52}]\nregion = us{CLEAR}\n".encode())
    profile = next(iter(load_profiles().profiles.values()))
    cells = profile_cells(profile, RowState(), datetime.now(UTC), timedelta(minutes=15))
    for text, _style in cells.values():
        assert_no_raw_controls(text)
    assert cells["name"][0] == printable(f"evil{OSC52}")
    assert cells["region"][0] == "us\\u001b[2J\\u001b[H"


def test_printable_keeps_plain_text_and_escapes_everything_else() -> None:
    assert printable("dev-session ✓ 59m") == "dev-session ✓ 59m"
    assert printable("a\nb\tc") == "a\\u000ab\\u0009c"
    assert printable("a\nb\tc", keep_newlines=True) == "a\nb\tc"
    assert printable("\x00\x7f\x85\u2028\u2029\u200b\u202e\u2066\ufeff") == (
        "\\u0000\\u007f\\u0085\\u2028\\u2029\\u200b\\u202e\\u2066\\ufeff"
    )
