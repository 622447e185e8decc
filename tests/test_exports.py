"""Export lines read back byte for byte by the real shells, and hostile values never run anything.

Each hostile value is rendered, evaluated by bash, dash (POSIX sh), zsh and fish (both by sourcing the
file and by `eval "$(…)"` / `| source`), and the child's environment is compared with what was meant.
Every value that would run a command tries to create a file in the test directory; none may appear.
PowerShell is not packaged for this system, so its lines are checked against the language
specification's single-quoted string grammar instead of a running pwsh.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stsdash.creds import Credentials
from stsdash.errors import UsageError
from stsdash.exports import (
    Exports,
    credential_exports,
    masked,
    profile_exports,
    quote_powershell,
    render,
)

PWN = "PWNED_MARKER"


def hostile_values(pwn: Path) -> list[str]:
    p = str(pwn)
    return [
        "plain",
        "",
        f"x$(touch {p}.1)",
        f"`touch {p}.2`",
        f"'; touch {p}.3; echo '",
        f'"; touch {p}.4; echo "',
        f"(touch {p}.5)",  # fish command substitution
        f"\\'; touch {p}.6; echo \\'",  # fish: backslash before a quote
        "trailing backslash \\",
        "\\\\double\\\\",
        f"line1\nline2; touch {p}.7\n",
        "tab\tcr\r esc\x1b[2J bel\x07 del\x7f",
        "$HOME ${HOME} %PATH% $env:PATH",
        "* ? [a-z] ~ {a,b} !! !$ # & | ; < > ^",
        "‘typographic’ ‚quotes‛ “double” — ünïcödé 日本",
        f"‘); touch {p}.8; (‘",
        "-n",
        "--dangerous=1",
        "=cmd",
        "a" * 4096,
    ]


def _env_dump_command() -> str:
    return f"{sys.executable} -c 'import os, json; print(json.dumps(dict(os.environ)))'"


def _run(argv: list[str], cwd: Path) -> dict[str, str]:
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd), "LANG": "C.UTF-8", "AWS_PROFILE": "old"}
    base["AWS_ACCESS_KEY_ID"] = "AKIAOLDEXAMPLE"
    done = subprocess.run(argv, cwd=cwd, env=base, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


SH_SHELLS = [s for s in ("bash", "dash", "zsh") if shutil.which(s)]


def _exports(values: list[str]) -> Exports:
    return Exports({f"STSDASH_T{n}": value for n, value in enumerate(values)}, ("AWS_PROFILE",))


def _check(env: dict[str, str], values: list[str], pwn: Path) -> None:
    for n, value in enumerate(values):
        assert env[f"STSDASH_T{n}"] == value, n
    assert "AWS_PROFILE" not in env
    assert not list(pwn.parent.glob(pwn.name + "*")), "a value ran a command"


@pytest.mark.parametrize("shell", SH_SHELLS)
def test_sh_lines_are_read_back_byte_identical_and_run_nothing(shell, tmp_path) -> None:
    pwn = tmp_path / PWN
    values = hostile_values(pwn)
    script = tmp_path / "exports.sh"
    script.write_text(render(_exports(values), "sh"))
    sourced = _run([shell, "-c", f". {script}; {_env_dump_command()}"], tmp_path)
    _check(sourced, values, pwn)
    evaluated = _run([shell, "-c", f'eval "$(cat {script})"; {_env_dump_command()}'], tmp_path)
    _check(evaluated, values, pwn)


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed (apt-get install fish)")
def test_fish_lines_are_read_back_byte_identical_and_run_nothing(tmp_path) -> None:
    pwn = tmp_path / PWN
    # fish keeps its variables in UTF-8 and cannot hold a raw ESC/CR through `set`? It can: all included.
    values = hostile_values(pwn)
    script = tmp_path / "exports.fish"
    script.write_text(render(_exports(values), "fish"))
    dump = _env_dump_command()
    sourced = _run(["fish", "--no-config", "-c", f"source {script}; {dump}"], tmp_path)
    _check(sourced, values, pwn)
    piped = _run(["fish", "--no-config", "-c", f"cat {script} | source; {dump}"], tmp_path)
    _check(piped, values, pwn)


def test_dotenv_lines_load_byte_identical_with_python_dotenv(tmp_path) -> None:
    dotenv = pytest.importorskip("dotenv")
    pwn = tmp_path / PWN
    values = [v for v in hostile_values(pwn) if not v.endswith("\\") and "\r" not in v and "${" not in v]
    values.append("cr-free control bytes \x1b[2J\x07\t and a newline\n")
    path = tmp_path / ".env"
    path.write_text(render(_exports(values), "dotenv"))
    loaded = dotenv.dotenv_values(path, interpolate=True)
    for n, value in enumerate(values):
        assert loaded[f"STSDASH_T{n}"] == value, n
    assert "AWS_PROFILE" not in loaded


def test_json_round_trips_and_marks_removed_variables_null(tmp_path) -> None:
    values = hostile_values(tmp_path / PWN)
    doc = json.loads(render(_exports(values), "json"))
    assert doc.pop("AWS_PROFILE") is None
    assert doc == {f"STSDASH_T{n}": v for n, v in enumerate(values)}


def _powershell_single_quoted(text: str) -> str:
    """The PowerShell language specification's verbatim string: quote chars are ' and U+2018..U+201B;
    two quote characters in a row stand for one; the literal ends at a lone quote character."""
    quotes = "'\u2018\u2019\u201a\u201b"
    assert text[0] in quotes
    out, i = [], 1
    while True:
        c = text[i]
        if c in quotes:
            if i + 1 < len(text) and text[i + 1] in quotes:
                out.append(text[i + 1])
                i += 2
                continue
            assert i == len(text) - 1, "the literal ended before the end of the value"
            return "".join(out)
        out.append(c)
        i += 1


def test_powershell_quoting_follows_the_single_quoted_string_grammar(tmp_path) -> None:
    for value in hostile_values(tmp_path / PWN):
        assert _powershell_single_quoted(quote_powershell(value)) == value
    lines = render(Exports({"A": "x'y"}, ("AWS_PROFILE",)), "powershell").splitlines()
    assert lines == ["Remove-Item -Path Env:AWS_PROFILE -ErrorAction SilentlyContinue", "$env:A = 'x''y'"]
    two = render(Exports({}, ("B", "C")), "powershell")
    assert two == "Remove-Item -Path Env:B, Env:C -ErrorAction SilentlyContinue\n"
    assert render(Exports({}, ("B", "C")), "sh") == "unset B C\n"


def test_credential_exports_set_both_region_variables_and_remove_the_profile() -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    creds = Credentials("ASIAFAKEEXAMPLE", "FAKE/secret+EXAMPLE", "FAKE-TOKEN", expires)
    exports = credential_exports(creds, "eu-west-2")
    assert exports.set == {
        "AWS_ACCESS_KEY_ID": "ASIAFAKEEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "FAKE/secret+EXAMPLE",
        "AWS_SESSION_TOKEN": "FAKE-TOKEN",
        "AWS_CREDENTIAL_EXPIRATION": "2030-01-02T03:04:05Z",
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }
    assert {"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"} <= set(exports.unset)
    applied = exports.apply({"AWS_PROFILE": "x", "AWS_DEFAULT_PROFILE": "y", "AWS_SECURITY_TOKEN": "old",
                             "KEEP": "1"})
    assert applied.keys() == {"KEEP", *exports.set}
    long_term = credential_exports(Credentials("AKIAFAKEEXAMPLE", "FAKE"), None)
    assert "AWS_SESSION_TOKEN" in long_term.unset and "AWS_REGION" not in long_term.set


def test_profile_exports_remove_keys_that_would_win_over_the_profile(tmp_path) -> None:
    name = f"x$(touch {tmp_path / PWN})"
    exports = profile_exports(name, "us-west-2")
    assert exports.set == {"AWS_PROFILE": name, "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-west-2"}
    assert "AWS_ACCESS_KEY_ID" in exports.unset
    script = tmp_path / "p.sh"
    script.write_text(render(exports, "sh"))
    env = _run(["bash", "-c", f". {script}; {_env_dump_command()}"], tmp_path)
    assert env["AWS_PROFILE"] == name and "AWS_ACCESS_KEY_ID" not in env
    assert not (tmp_path / PWN).exists()


def test_masked_hides_secrets_for_the_screen() -> None:
    creds = Credentials("ASIAFAKEEXAMPLE1234", "FAKE-SECRET-EXAMPLE", "FAKE-TOKEN-EXAMPLE")
    text = render(masked(credential_exports(creds, None)), "sh")
    assert "FAKE-SECRET" not in text and "FAKE-TOKEN" not in text and "ASIAFAKE" not in text
    assert "1234" in text


def test_nul_and_bad_names_are_refused() -> None:
    with pytest.raises(UsageError, match="NUL"):
        render(Exports({"A": "x\0y"}), "sh")
    with pytest.raises(UsageError, match="not a valid environment variable name"):
        render(Exports({"A;rm": "x"}), "sh")
    for value in ("x\\", "a\rb", "${HOME}"):
        with pytest.raises(UsageError, match="cannot be written as dotenv"):
            render(Exports({"A": value}), "dotenv")
    with pytest.raises(UsageError, match="unknown export format"):
        render(Exports({"A": "x"}), "csh")
