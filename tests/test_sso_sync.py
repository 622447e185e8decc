"""Account/role discovery at the portal's rate limit, and the managed block in ~/.aws/config."""

from __future__ import annotations

import configparser
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import botocore.session
import pytest

from stsdash.awsfiles import configblock
from stsdash.errors import FileFormatError
from stsdash.providers.http import RetryPolicy
from stsdash.sso import sync
from stsdash.sso.portal import PortalClient, TokenBucket
from stsdash_demo.ssoserver import make_accounts
from tests.support.ssoserver import SESSION, sso_config_text, sso_manager, sso_session

USER_TEXT = """\
# my own notes: keep me
[default]
region = eu-west-1   # inline comment stays in the value

[profile acct-0000.ReadOnlyAccess]
# a profile I wrote by hand with the same name a sync would pick
region = us-west-2

[profile handmade]
sso_session = corp
sso_account_id = 100000000001
sso_role_name = AdministratorAccess
"""


def _logged_in(aws_home, server):
    server.config.auto_approve = True
    manager = sso_manager(aws_home)
    session = sso_session(server, aws_home)
    manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    return manager, session


def test_500_accounts_at_the_rate_limit(aws_home, sso_server_factory, monkeypatch):
    server = sso_server_factory(accounts=make_accounts(500, 3), rate_limit=20, rate_burst=20)
    for key in ("AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
        monkeypatch.setenv(key, server.url)
    before = sso_config_text(server) + "\n" + USER_TEXT
    aws_home.write_config(before)
    manager, session = _logged_in(aws_home, server)
    started = time.monotonic()
    plan, diff, applied = sync.sync(manager, session, confirm=lambda diff, plan: True)
    elapsed = time.monotonic() - started
    assert applied and diff.startswith("---")
    assert server.counts["ListAccounts"] == 5 and server.counts["ListAccountRoles"] == 500
    assert server.counts["throttled"] == 0  # zero failed calls, not even retried ones
    assert elapsed < 60
    assert len(plan.add) == 1498
    assert dict(plan.skipped) == {
        "acct-0000.ReadOnlyAccess": "a profile with this name exists outside the managed block",
        "acct-0001.AdministratorAccess": "already configured as profile handmade",
    }
    after = aws_home.config.read_text()
    assert after.startswith(before)  # every byte the user wrote is still there
    assert configblock.outside_text(after, SESSION).rstrip("\n") == before.rstrip("\n")
    parser = configparser.RawConfigParser()
    parser.read_string(after)  # no duplicate section: botocore would reject the file
    scoped = botocore.session.Session(profile="acct-0499.PowerUserAccess").get_scoped_config()
    assert scoped["sso_account_id"] == "100000000499" and scoped["sso_session"] == SESSION
    # Re-applying the same discovery is a no-op, byte for byte.
    assignments = [sync.Assignment(p.account_id, p.account_name, "", p.role_name) for p in plan.add]
    sync.apply(aws_home.config, session, assignments + _skipped(plan))
    assert aws_home.config.read_text() == after


def _skipped(plan):
    return [
        sync.Assignment("100000000000", "acct-0000", "", "ReadOnlyAccess"),
        sync.Assignment("100000000001", "acct-0001", "", "AdministratorAccess"),
    ]


def test_resync_is_idempotent_and_tracks_changes(aws_home, sso_env):
    _, server = sso_env
    aws_home.write_config(aws_home.config.read_text() + "\n" + USER_TEXT + "[profile after]\nregion = x\n")
    manager, session = _logged_in(aws_home, server)
    plan, _, applied = sync.sync(manager, session, confirm=lambda d, p: True)
    assert applied and len(plan.add) == 4  # 3 accounts x 2 roles, minus the two skipped
    first = aws_home.config.read_bytes()
    _plan2, diff2, applied2 = sync.sync(manager, session, confirm=lambda d, p: True)
    assert diff2 == "" and not applied2 and aws_home.config.read_bytes() == first
    # A role removed at the portal disappears from the block; the user's text stays.
    server.accounts["100000000002"].roles.remove("ReadOnlyAccess")
    _plan3, diff3, _ = sync.sync(manager, session, confirm=lambda d, p: True)
    assert "-[profile acct-0002.ReadOnlyAccess]" in diff3
    text = aws_home.config.read_text()
    assert "acct-0002.ReadOnlyAccess" not in text and "[profile after]\nregion = x\n" in text
    assert configblock.outside_text(text, SESSION) == configblock.outside_text(first.decode(), SESSION)


def test_dry_run_and_declined_change_nothing(aws_home, sso_env):
    _, server = sso_env
    manager, session = _logged_in(aws_home, server)
    before = aws_home.config.read_bytes()
    _, diff, applied = sync.sync(manager, session, dry_run=True)
    assert not applied and "+[profile acct-0000.AdministratorAccess]" in diff
    assert "+# BEGIN stsdash managed: sso-session corp" in diff
    _plan, diff, applied = sync.sync(manager, session, confirm=lambda d, p: False)
    assert not applied and aws_home.config.read_bytes() == before


def test_profile_added_outside_between_preview_and_apply_is_not_duplicated(aws_home, sso_env):
    _, server = sso_env
    manager, session = _logged_in(aws_home, server)

    def sneaky_confirm(diff, plan):
        with aws_home.config.open("a") as handle:
            handle.write("\n[profile acct-0001.ReadOnlyAccess]\nregion = x\n")
        return True

    plan, _, applied = sync.sync(manager, session, confirm=sneaky_confirm)
    assert applied and "acct-0001.ReadOnlyAccess" not in [p.name for p in plan.add]
    configparser.RawConfigParser().read_string(aws_home.config.read_text())


class TrailingSecondGate:
    """The portal's limit as the issue states it: a 429 for any request that would make more than
    `limit` in the trailing second (server arrival times)."""

    def __init__(self, limit: int = 20) -> None:
        self.limit = limit
        self.arrivals: list[float] = []
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            recent = [t for t in self.arrivals if now - t < 1.0]
            self.arrivals = [*recent, now]
            return len(recent) < self.limit


def test_sync_never_exceeds_20_requests_in_any_second(aws_home, sso_server_factory, monkeypatch):
    """500 accounts x 3 roles from the first second on: not one 429 from a sliding-window portal."""
    server = sso_server_factory(accounts=make_accounts(500, 3))
    server.portal_bucket = TrailingSecondGate(20)
    for key in ("AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
        monkeypatch.setenv(key, server.url)
    aws_home.write_config(sso_config_text(server))
    manager, session = _logged_in(aws_home, server)
    server.counts.clear()
    plan, _, applied = sync.sync(manager, session, confirm=lambda diff, plan: True)
    assert applied and len(plan.add) == 1500
    assert server.counts["ListAccountRoles"] == 500
    assert server.counts["throttled"] == 0


def test_unthrottled_client_hits_429_and_limited_client_does_not(aws_home, sso_server_factory, monkeypatch):
    """The server's limit is real, and the client-side bucket is what keeps a sync clear of it."""
    server = sso_server_factory(accounts=make_accounts(30, 1), rate_limit=10, rate_burst=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", server.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", server.url)
    manager, session = _logged_in(aws_home, server)
    token = manager.token(session).access_token
    ids = [a.account_id for a in server.config.accounts]

    def run(bucket: TokenBucket) -> PortalClient:
        client = PortalClient(
            server.url,
            token,
            session_name=SESSION,
            bucket=bucket,
            max_attempts=20,
            policy=RetryPolicy(base=0.1, cap=1.0),
        )
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(client.list_account_roles, ids))
        assert all(len(r) == 1 for r in results)  # every call succeeded in the end
        return client

    greedy = run(TokenBucket(rate=1000, burst=1000))
    assert greedy.throttled > 0 and server.counts["throttled"] == greedy.throttled
    time.sleep(1.1)  # let the server's bucket refill
    server.counts.clear()
    polite = run(TokenBucket(rate=9, burst=3))
    assert polite.throttled == 0 and server.counts["throttled"] == 0


def test_token_bucket_rate():
    bucket = TokenBucket(rate=50, burst=1)
    started = time.monotonic()
    for _ in range(26):
        bucket.acquire()
    assert 0.45 < time.monotonic() - started < 1.5


def test_bucket_is_shared_between_threads():
    bucket = TokenBucket(rate=40, burst=1)
    stamps: list[float] = []
    lock = threading.Lock()

    def work():
        for _ in range(10):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stamps[-1] - min(stamps) > 0.9  # 40 acquisitions at 40/s across 4 threads


# --- names -------------------------------------------------------------------------------------


def test_names_from_template_are_sanitized_and_unique(aws_home, sso_server):
    session = sso_session(sso_server, aws_home)
    assignments = [
        sync.Assignment("111111111111", "Prod / EU", "", "Admin,Access"),  # `,` is valid in IAM names
        sync.Assignment("222222222222", "dup", "", "Admin"),
        sync.Assignment("333333333333", "dup", "", "Admin"),
    ]
    plan = sync.plan(session, assignments, "", template="{account_name}.{role_name}")
    assert [p.name for p in plan.add] == [
        "dup.Admin-222222222222",
        "dup.Admin-333333333333",
        "Prod-EU.Admin-Access",
    ]
    plan = sync.plan(session, assignments[:1], "", template="{session}-{account_id}-{role_name}")
    assert plan.add[0].name == "corp-111111111111-Admin-Access"
    with pytest.raises(Exception, match="sso_profile_template"):
        sync.plan(session, assignments, "", template="{nope}")


# --- the managed block ------------------------------------------------------------------------


def test_block_keeps_crlf_and_surrounding_bytes():
    text = (
        "[default]\r\nregion = x\r\n# BEGIN stsdash managed: sso-session corp\r\nold\r\n"
        "# END stsdash managed: sso-session corp\r\n[profile z]\r\nregion = y"
    )
    new = configblock.render(text, "corp", "[profile a]\nsso_session = corp\n")
    assert new == (
        "[default]\r\nregion = x\r\n# BEGIN stsdash managed: sso-session corp\r\n[profile a]\r\n"
        "sso_session = corp\r\n# END stsdash managed: sso-session corp\r\n[profile z]\r\nregion = y"
    )


def test_block_appended_to_file_without_trailing_newline():
    assert configblock.render("[default]\nregion = x", "corp", "[profile a]\n") == (
        "[default]\nregion = x\n\n# BEGIN stsdash managed: sso-session corp\n[profile a]\n"
        "# END stsdash managed: sso-session corp\n"
    )


def test_other_sessions_blocks_are_untouched():
    text = configblock.render("", "other", "[profile o]\n")
    both = configblock.render(text, "corp", "[profile c]\n")
    assert both.startswith(text)
    assert configblock.render(both, "corp", "[profile d]\n").startswith(text)


@pytest.mark.parametrize(
    "text",
    [
        "# BEGIN stsdash managed: sso-session corp\n[profile a]\n",
        "# END stsdash managed: sso-session corp\n",
        "# BEGIN stsdash managed: sso-session corp\n# BEGIN stsdash managed: sso-session corp\n",
    ],
)
def test_broken_markers_refuse(tmp_path, text):
    path = tmp_path / "config"
    path.write_text(text)
    with pytest.raises(FileFormatError):
        configblock.update_block(path, "corp", lambda outside: "[profile a]\n")
    assert path.read_text() == text


def test_malformed_config_is_not_written(tmp_path, aws_home, sso_server):
    path = tmp_path / "config"
    path.write_text("[profile a]\nx = 1\n[profile a]\n")
    with pytest.raises(FileFormatError):
        sync.apply(path, sso_session(sso_server, aws_home), [sync.Assignment("1", "n", "", "r")])
    assert path.read_text() == "[profile a]\nx = 1\n[profile a]\n"


def test_symlinked_config_stays_a_symlink(tmp_path, aws_home, sso_server):
    real = tmp_path / "real-config"
    real.write_text("[default]\n")
    link = tmp_path / "config"
    link.symlink_to(real)
    sync.apply(link, sso_session(sso_server, aws_home), [sync.Assignment("111111111111", "n", "", "r")])
    assert link.is_symlink() and "[profile n.r]" in real.read_text()


# --- the command line ---------------------------------------------------------------------------


def test_cli_login_sync_status_logout(aws_home, sso_env, capsys):
    from stsdash.cli import main

    _, server = sso_env
    server.config.auto_approve = True
    before = aws_home.config.read_text()
    assert main(["sso", "login", SESSION, "--device-code", "--no-browser"]) == 0
    assert "Code:" in capsys.readouterr().err
    assert main(["sso", "sync", SESSION, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "+[profile acct-0002.ReadOnlyAccess]" in out and aws_home.config.read_text() == before
    assert main(["sso", "sync", SESSION]) == 2  # no terminal to confirm on, no --yes
    assert aws_home.config.read_text() == before
    assert main(["sso", "sync", SESSION, "--yes"]) == 0
    assert "[profile acct-0002.ReadOnlyAccess]" in aws_home.config.read_text()
    capsys.readouterr()
    assert main(["sso", "status"]) == 0
    status = capsys.readouterr().out
    assert f"{SESSION}: " in status and "refreshable" in status and "6 profiles" in status
    assert main(["sso", "logout", SESSION]) == 0
    capsys.readouterr()
    assert main(["sso", "status"]) == 0
    assert "not logged in" in capsys.readouterr().out
    assert main(["sso", "login", "nope", "--no-browser"]) == 2
    assert "no sso-session named 'nope'" in capsys.readouterr().err
