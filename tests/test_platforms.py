"""The Windows and macOS branches, run here on Linux with the platform faked.

What differs there and is faked here: no `pwd` module (Windows), no `os.fchmod` (Windows before Python
3.13), no xattr functions (macOS, Windows), and an `os.replace` that fails while another process holds the
file open (Windows). The real platforms are not in CI; the README says so.
"""

from __future__ import annotations

import importlib
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stsdash.awsfiles import atomic
from stsdash.awsfiles.writer import CredentialsWriter, SectionUpdate
from stsdash.creds import Credentials
from stsdash.errors import CredentialsWriteError
from tests.support.awsenv import assert_resolves

EXPIRY = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
CREDS = Credentials("ASIAFAKEEXAMPLEPLAT", "secretFAKE", "tokenFAKE", EXPIRY)
ROOT = Path(__file__).resolve().parent.parent


def test_the_package_imports_without_posix_only_modules() -> None:
    """Every non-UI module imports with `pwd`, `grp`, `fcntl`, `termios` and `tty` missing."""
    code = """
import sys, pkgutil, importlib
for name in ("pwd", "grp", "fcntl", "termios", "tty"):
    sys.modules[name] = None  # what `import name` finds on Windows: ImportError
import stsdash
names = [m.name for m in pkgutil.walk_packages(stsdash.__path__, "stsdash.")
         if ".ui" not in m.name and not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
from stsdash.awsfiles.paths import aws_paths
print(len(names), aws_paths({"USERPROFILE": "C:/Users/alice"}).credentials.as_posix())
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    count, credentials = proc.stdout.split()
    assert int(count) > 20
    assert credentials == "C:/Users/alice/.aws/credentials"


def test_paths_without_pwd_use_userprofile_like_expanduser_on_windows(monkeypatch) -> None:
    from stsdash.awsfiles import paths

    monkeypatch.setitem(sys.modules, "pwd", None)
    reloaded = importlib.reload(paths)
    try:
        assert reloaded.pwd is None
        found = reloaded.aws_paths({"USERPROFILE": "/u/alice", "HOME": "/ignored/on/windows"})
        assert found.credentials == Path("/u/alice/.aws/credentials")
        assert found.sso_cache == Path("/u/alice/.aws/sso/cache")
        found = reloaded.aws_paths({"HOMEDRIVE": "/d", "HOMEPATH": "/bob"})
        assert found.config == Path("/d/bob/.aws/config")
    finally:
        monkeypatch.undo()
        importlib.reload(paths)


def test_without_fchmod_the_mode_is_set_by_name(tmp_path, monkeypatch) -> None:
    # atomic_write alone: filelock's Unix lock needs fchmod itself (on Windows it uses msvcrt instead).
    monkeypatch.delattr(os, "fchmod")
    path = tmp_path / "fresh" / "credentials"
    atomic.atomic_write(path, b"[s]\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o640)
    atomic.atomic_write(path, b"[t]\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_bytes() == b"[t]\n"


def test_without_xattr_or_chown_functions_writing_still_works(aws_home, monkeypatch) -> None:
    for name in ("listxattr", "getxattr", "setxattr", "fchown"):
        monkeypatch.delattr(os, name)
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", CREDS)])
    assert_resolves("s", CREDS)


def _replace_failing(monkeypatch, failures: int) -> list[str]:
    """os.replace fails `failures` times the way Windows does while another process has the file open."""
    real = os.replace
    seen: list[str] = []

    def replace(src, dst):
        seen.append("try")
        if seen.count("try") <= failures:
            raise PermissionError(13, "The process cannot access the file because it is being used")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(atomic, "pause", lambda delay: seen.append(f"wait {delay}"))
    return seen


def test_a_replace_that_fails_twice_is_retried(aws_home, monkeypatch) -> None:
    seen = _replace_failing(monkeypatch, failures=2)
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", CREDS)])
    assert seen == ["try", "wait 0.05", "try", "wait 0.1", "try"]
    assert_resolves("s", CREDS)


def test_a_replace_that_keeps_failing_is_a_clear_error_and_nothing_changes(aws_home, monkeypatch) -> None:
    aws_home.write_credentials("[other]\nregion = eu-west-1\n")
    before = aws_home.credentials.read_bytes()
    _replace_failing(monkeypatch, failures=99)
    with pytest.raises(CredentialsWriteError) as caught:
        CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", CREDS)])
    message = str(caught.value)
    assert "another program may have the file open" in message and "the file is unchanged" in message
    assert aws_home.credentials.read_bytes() == before
    assert [p.name for p in aws_home.credentials.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_the_mfa_prompt_uses_the_console_where_there_is_no_dev_tty(monkeypatch, capsys) -> None:
    import getpass
    import io

    from stsdash.commands import refresh as refresh_cmd
    from stsdash.engine import MfaRequest

    class Console(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(os, "name", "nt")
    monkeypatch.setattr(sys, "stdin", Console())
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "123456")
    opened: list[str] = []
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(str(a[0])) or io.StringIO())
    assert refresh_cmd.has_tty()
    request = MfaRequest(serial="arn:aws:iam::123456789012:mfa/alice", profiles=["dev"], reason="")
    assert refresh_cmd.prompt_code(request) == "123456"
    assert opened == []  # no /dev/tty
    assert "MFA code needed for arn:aws:iam::123456789012:mfa/alice" in capsys.readouterr().err
