"""`login_session` profiles (`aws login`): a kind of their own, expiry from the AWS CLI's login cache,
checked against botocore's LoginProvider reading the same files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.credentials
import botocore.exceptions
import pytest

from stsdash.awsfiles.logincache import login_cache_filename
from stsdash.awsfiles.paths import aws_paths
from stsdash.engine import RefreshEngine
from stsdash.profiles import Kind, Status, load_profiles
from stsdash.settings import Settings
from stsdash.timeutil import utcnow
from tests.support.awsenv import AwsHome, botocore_session

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
KEY_ID = "ASIALOGINTESTEXAMPLE"


@pytest.fixture(autouse=True)
def botocore_without_crt(monkeypatch: pytest.MonkeyPatch) -> None:
    # LoginProvider refuses to start without awscrt's EC module, which it needs only to sign a refresh
    # (DPoP). Loading the cached keys, all these tests ask of it, does not touch it.
    if getattr(botocore.credentials, "EC", None) is None:
        monkeypatch.setattr(botocore.credentials, "EC", object(), raising=False)


def write_login_cache(directory: Path, session: str, expires: datetime, **drop: bool) -> Path:
    token = {
        "accessToken": {
            "accessKeyId": KEY_ID,
            "secretAccessKey": "FAKE-LOGIN-SECRET",
            "sessionToken": "FAKE-LOGIN-TOKEN",
            "accountId": "123456789012",
            "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "refreshToken": "FAKE-REFRESH-TOKEN",
        "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nFAKE\n-----END EC PRIVATE KEY-----\n",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "idToken": "FAKE",
    }
    for key in drop:
        del token[key]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / login_cache_filename(session)
    path.write_text(json.dumps(token))
    return path


def profiles(aws_home: AwsHome, now: datetime | None = None):
    return load_profiles(aws_paths(aws_home.env), now=now)


def test_a_login_profile_has_its_kind_and_the_cached_expiry_botocore_uses(aws_home: AwsHome) -> None:
    expires = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    aws_home.write_config("[profile console]\nlogin_session = arn:aws:iam::123456789012:user/alice\n"
                          "region = eu-west-1\n")
    write_login_cache(aws_home.home / ".aws" / "login" / "cache", "arn:aws:iam::123456789012:user/alice",
                      expires)
    p = profiles(aws_home).profiles["console"]
    assert p.kind is Kind.LOGIN and p.problem is None
    assert p.expires_at == expires
    assert p.target is None and not p.refreshable
    creds = botocore_session("console").get_credentials()
    assert creds.method == "login"
    assert creds.get_frozen_credentials().access_key == KEY_ID
    # botocore's expiry is the same: a refresh is due within remaining + 60 s, not within remaining - 60 s
    remaining = (expires - datetime.now(UTC)).total_seconds()
    assert creds.refresh_needed(refresh_in=remaining + 60)
    assert not creds.refresh_needed(refresh_in=remaining - 60)


def test_the_countdown_works_like_any_other(aws_home: AwsHome) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    ahead = timedelta(minutes=15)
    aws_home.write_config("[profile a]\nlogin_session = a\n[profile b]\nlogin_session = b\n"
                          "[profile c]\nlogin_session = c\n")
    cache = aws_home.home / ".aws" / "login" / "cache"
    write_login_cache(cache, "a", now + timedelta(hours=1))
    write_login_cache(cache, "b", now + timedelta(minutes=5))
    write_login_cache(cache, "c", now - timedelta(minutes=5))
    ps = profiles(aws_home, now)
    statuses = [ps.profiles[n].status(now, ahead) for n in "abc"]
    assert statuses == [Status.FRESH, Status.EXPIRING, Status.EXPIRED]


def test_the_cache_directory_follows_aws_login_cache_directory(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    expires = (utcnow() + timedelta(hours=1)).replace(microsecond=0)
    monkeypatch.setenv("AWS_LOGIN_CACHE_DIRECTORY", str(tmp_path / "elsewhere"))
    aws_home.env["AWS_LOGIN_CACHE_DIRECTORY"] = str(tmp_path / "elsewhere")
    aws_home.write_config("[profile console]\nlogin_session = me\n")
    write_login_cache(tmp_path / "elsewhere", "me", expires)
    assert profiles(aws_home).profiles["console"].expires_at == expires
    assert botocore_session("console").get_credentials().get_frozen_credentials().access_key == KEY_ID


@pytest.mark.parametrize("missing", [None, "refreshToken", "dpopKey", "clientId"])
def test_no_usable_cache_is_a_problem_that_says_what_to_run(aws_home: AwsHome, missing: str | None) -> None:
    aws_home.write_config("[profile console]\nlogin_session = me\n")
    if missing is not None:
        write_login_cache(aws_home.home / ".aws" / "login" / "cache", "me", utcnow() + timedelta(hours=1),
                          **{missing: True})
    p = profiles(aws_home).profiles["console"]
    assert p.kind is Kind.LOGIN
    assert p.problem is not None and "run `aws login --profile console`" in p.problem
    if missing is not None:
        assert missing in p.problem
    with pytest.raises(botocore.exceptions.BotoCoreError):  # LoginTokenLoadError
        botocore_session("console").get_credentials()


def test_login_with_mfa_serial_is_a_login_profile_not_an_mfa_user(aws_home: AwsHome) -> None:
    aws_home.write_config(f"[profile console]\nlogin_session = me\nmfa_serial = {SERIAL}\n")
    write_login_cache(aws_home.home / ".aws" / "login" / "cache", "me", utcnow() + timedelta(hours=1))
    p = profiles(aws_home).profiles["console"]
    assert p.kind is Kind.LOGIN and p.keys_in is None and p.problem is None
    assert botocore_session("console").get_credentials().method == "login"


def test_refresh_tells_exactly_what_to_run(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile console]\nlogin_session = me\n")
    write_login_cache(aws_home.home / ".aws" / "login" / "cache", "me", utcnow() + timedelta(minutes=5))
    [result] = RefreshEngine(settings=Settings()).refresh(["console"], code_provider=lambda request: None)
    assert not result.ok
    assert "aws login --profile console" in str(result.error)


def test_a_role_sourced_from_a_login_profile_is_shown_as_refresh_refuses_it(aws_home: AwsHome) -> None:
    aws_home.write_config(
        "[profile console]\nlogin_session = me\n"
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = console\n"
    )
    write_login_cache(aws_home.home / ".aws" / "login" / "cache", "me", utcnow() + timedelta(hours=1))
    admin = profiles(aws_home).profiles["admin"]
    assert admin.problem is not None and "aws login" in admin.problem
    [result] = RefreshEngine(settings=Settings()).refresh(["admin"], code_provider=lambda request: None)
    assert not result.ok


def test_the_dashboard_row_says_where_the_keys_come_from(aws_home: AwsHome) -> None:
    from stsdash.ui.rows import role_or_source

    aws_home.write_config("[profile console]\nlogin_session = me\n")
    write_login_cache(aws_home.home / ".aws" / "login" / "cache", "me", utcnow() + timedelta(hours=1))
    assert role_or_source(profiles(aws_home).profiles["console"]) == "aws login me"
