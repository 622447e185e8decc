"""A credentials file others can read is called out in `list` and the dashboard, and fixed on request."""

from __future__ import annotations

import os
import stat

import pytest

from stsdash.awsfiles.perms import exposed_credentials
from stsdash.cli import main

SECRET = "[dev-session]\naws_access_key_id = ASIAFAKEEXAMPLE1\naws_secret_access_key = secretFAKE\n"
pytestmark = pytest.mark.skipif(os.name == "nt", reason="mode bits mean nothing on Windows")


@pytest.mark.parametrize(("mode", "who"), [(0o644, "everyone on this machine"), (0o640, "its group")])
def test_list_warns_about_a_readable_file_with_secrets(aws_home, capsys, mode: int, who: str) -> None:
    aws_home.write_credentials(SECRET)
    os.chmod(aws_home.credentials, mode)
    for argv in (["list"], ["list", "--json"]):
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert f"is readable by {who} (mode {mode:04o})" in err and "stsdash fix-permissions" in err
    assert stat.S_IMODE(aws_home.credentials.stat().st_mode) == mode  # list itself never changes it


def test_no_warning_for_a_private_file_or_one_without_secrets(aws_home, capsys) -> None:
    aws_home.write_credentials(SECRET)
    os.chmod(aws_home.credentials, 0o600)
    assert exposed_credentials(aws_home.credentials) is None
    aws_home.write_credentials("[default]\nregion = eu-west-1\n")
    os.chmod(aws_home.credentials, 0o644)
    assert exposed_credentials(aws_home.credentials) is None
    assert main(["list"]) == 0
    assert "readable by" not in capsys.readouterr().err


def test_fix_permissions_takes_group_and_other_access_away(aws_home, capsys) -> None:
    aws_home.write_credentials(SECRET)
    os.chmod(aws_home.credentials, 0o664)
    assert main(["fix-permissions"]) == 0
    assert "mode 0664 -> 0600" in capsys.readouterr().out
    assert stat.S_IMODE(aws_home.credentials.stat().st_mode) == 0o600
    assert exposed_credentials(aws_home.credentials) is None
    assert main(["fix-permissions"]) == 0
    assert "already mode 0600" in capsys.readouterr().out


async def test_the_dashboard_warns_once(tmp_path) -> None:
    from stsdash_demo.runner import applied_env, build_app, demo_environment

    with demo_environment(approve_after=None, sso_login=False) as env, applied_env(env.env):
        with env.credentials.open("a") as handle:
            handle.write("\n" + SECRET.replace("dev-session", "exposed-test"))
        os.chmod(env.credentials, 0o644)
        app = build_app(watch_files=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await app.loaded.wait()
            await pilot.pause()
            warnings = [n.message for n in app._notifications if "readable by" in n.message]
            assert len(warnings) == 1 and "stsdash fix-permissions" in warnings[0]
