"""stsdash's config.toml: defaults, durations, validation messages that name file and key, round trip."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from stsdash.errors import SettingsError
from stsdash.settings import (
    ProfileSettings,
    Settings,
    format_duration,
    load_settings,
    parse_duration,
    save_settings,
    settings_path,
)
from tests.support.awsenv import AwsHome


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "none.toml")
    assert s == Settings()
    assert s.refresh_ahead == timedelta(minutes=15)
    assert (s.session_duration, s.role_duration, s.target_template) == (43200, None, "{profile}-session")
    assert (s.theme, s.auto_refresh, s.max_concurrency) == ("textual-dark", False, 32)
    assert s.sso_profile_template == "{account_name}.{role_name}"
    assert s.source_mfa_serial == "session"


def test_settings_path(aws_home: AwsHome) -> None:
    assert settings_path() == aws_home.settings
    assert settings_path({"STSDASH_CONFIG": "/x/y.toml"}) == Path("/x/y.toml")
    assert settings_path({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/stsdash/config.toml")


def test_full_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        """
refresh_ahead = "1h30m"
session_duration = 3600
role_duration = 7200
target_template = "{profile}-tmp"
hidden = ["old", "junk"]
theme = "textual-light"
auto_refresh = true
max_concurrency = 4
sso_profile_template = "{account_id}-{role_name}"

[profiles.dev]
target = "dev-creds"
duration_seconds = 900
role_session_name = "alice@example.com"
session_tags = { team = "platform" }
transitive_tag_keys = ["team"]
policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]

[profiles."a.b"]
target = "ab"
""",
    )
    s = load_settings(path)
    assert s.refresh_ahead == timedelta(hours=1, minutes=30)
    assert (s.session_duration, s.role_duration, s.target_template) == (3600, 7200, "{profile}-tmp")
    assert s.hidden == ["old", "junk"]
    assert (s.theme, s.auto_refresh, s.max_concurrency) == ("textual-light", True, 4)
    assert s.profiles["dev"] == ProfileSettings(
        target="dev-creds",
        duration_seconds=900,
        role_session_name="alice@example.com",
        session_tags={"team": "platform"},
        transitive_tag_keys=["team"],
        policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    )
    assert s.profile("a.b").target == "ab"
    assert s.profile("nobody") == ProfileSettings()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (900, 900),
        ("900", 900),
        ("15m", 900),
        ("1h", 3600),
        ("1h30m", 5400),
        ("90s", 90),
        ("2d", 172800),
        ("1H 5M", 3900),
        (0, 0),
    ],
)
def test_parse_duration(value: object, expected: int) -> None:
    assert parse_duration(value) == timedelta(seconds=expected)


@pytest.mark.parametrize("value", ["", "15x", "m", "15m junk", "-5", True, 1.5, "1h-"])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_format_duration_round_trips() -> None:
    for seconds in (0, 59, 900, 5400, 86400 + 61):
        assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("session_duration = 100", "session_duration"),
        ("session_duration = 200000", "session_duration"),
        ('session_duration = "12h"', "session_duration"),
        ("role_duration = 50000", "role_duration"),
        ('refresh_ahead = "soon"', "refresh_ahead"),
        ('refresh_ahead = "3d"', "refresh_ahead"),
        ("refresh_ahead = -1", "refresh_ahead"),
        ('target_template = "session"', "target_template"),
        ('target_template = "{name}-x"', "target_template"),
        ('target_template = "[{profile}]"', "target_template"),
        ("max_concurrency = 0", "max_concurrency"),
        ("max_concurrency = true", "max_concurrency"),
        ("max_concurrency = 65", "max_concurrency"),
        ('source_mfa_serial = "botocore"', "source_mfa_serial"),
        ("source_mfa_serial = false", "source_mfa_serial"),
        ('auto_refresh = "yes"', "auto_refresh"),
        ('hidden = "x"', "hidden"),
        ('sso_profile_template = "{account}"', "sso_profile_template"),
        ("refresh_ahaed = 5", "refresh_ahaed"),
        ('profiles = "x"', "profiles"),
        ("[profiles.dev]\nduration_seconds = 10", "profiles.dev.duration_seconds"),
        ('[profiles.dev]\nrole_session_name = "a b"', "profiles.dev.role_session_name"),
        ('[profiles.dev]\ntarget = ""', "profiles.dev.target"),
        ('[profiles.dev]\ntarget = "a]b"', "profiles.dev.target"),
        ("[profiles.dev]\nsession_tags = { a = 1 }", "profiles.dev.session_tags"),
        ("[profiles.dev]\ncolour = 1", "profiles.dev.colour"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path / "c.toml", text + "\n")
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}:"), message
    assert info.value.hint  # says what to do
    assert info.value.exit_code == 2


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "refresh_ahead = \n")
    with pytest.raises(SettingsError, match=r"not valid TOML.*line 1"):
        load_settings(path)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    s = Settings(
        refresh_ahead=timedelta(minutes=20),
        session_duration=7200,
        role_duration=3600,
        hidden=["x"],
        auto_refresh=True,
        max_concurrency=3,
        source_mfa_serial="ignore",
        profiles={
            "dev": ProfileSettings(target="dev-t", session_tags={"k": "v"}),
            "empty": ProfileSettings(),
        },
    )
    path = tmp_path / "sub" / "config.toml"
    save_settings(s, path)
    assert (path.stat().st_mode & 0o777) == 0o600
    loaded = load_settings(path)
    s.profiles.pop("empty")  # an all-default table is not written
    assert loaded == s
    assert 'refresh_ahead = "20m"' in path.read_text()


def test_default_path_from_environment(aws_home: AwsHome) -> None:
    write(aws_home.settings, 'refresh_ahead = "5m"\n')
    assert load_settings().refresh_ahead == timedelta(minutes=5)


@pytest.mark.parametrize("value", ["session", "ignore"])
def test_source_mfa_serial(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "c.toml", f'source_mfa_serial = "{value}"\n')
    assert load_settings(path).source_mfa_serial == value


def test_source_mfa_serial_error_says_which_values(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'source_mfa_serial = "off"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert str(info.value).startswith(f"{path}: source_mfa_serial: must be \"session\" or \"ignore\"")
    assert "botocore" in (info.value.hint or "")


def test_session_policies_and_saml_keys(tmp_path: Path) -> None:
    policy_file = write(tmp_path / "p.json", '{"Version": "2012-10-17", "Statement": []}')
    path = write(
        tmp_path / "c.toml",
        f"""
account_names = {{ "123456789012" = "prod" }}
[profiles.a]
policy = '''{{ "Version": "2012-10-17",
  "Statement": [ {{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}} ] }}'''
policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
[profiles.b]
policy = {{ Version = "2012-10-17", Statement = [{{ Effect = "Deny", Action = "iam:*", Resource = "*" }}] }}
[profiles.c]
policy_file = "{policy_file}"
[profiles.corp]
saml_process = "okta-saml --app 'aws prod'"
role_arn = "arn:aws:iam::123456789012:role/Admin"
principal_arn = "arn:aws:iam::123456789012:saml-provider/Okta"
[profiles.pasted]
saml = true
""",
    )
    s = load_settings(path)
    assert s.account_names == {"123456789012": "prod"}
    assert s.profile("a").policy == (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    )
    assert s.profile("b").policy == (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}'
    )
    assert s.profile("c").policy_file == str(policy_file) and s.profile("c").policy is None
    corp = s.profile("corp")
    assert corp.saml and corp.saml_process == "okta-saml --app 'aws prod'"
    assert corp.role_arn == "arn:aws:iam::123456789012:role/Admin"
    assert s.profile("pasted").saml and s.profile("pasted").saml_process is None
    assert not s.profile("a").saml
    out = tmp_path / "round.toml"
    save_settings(s, out)
    assert load_settings(out) == s


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("policy = 'not json'", "profiles.x.policy: the session policy is not valid JSON (line 1, column 1"),
        ("policy = '[1]'", "must be a JSON object with a Statement"),
        ("policy = '{\"Version\": \"2012-10-17\"}'", "must be a JSON object with a Statement"),
        ("policy = '{\"Statement\": \"" + "x" * 3000 + "\"}'", "STS accepts at most 2048"),
        ("policy = '{}'\npolicy_file = 'p.json'", "set together with policy_file"),
        ("saml = 'yes'", "profiles.x.saml: must be true or false"),
        ("saml_process = 'okta \"unclosed'", "saml_process: cannot be split into arguments"),
        ("saml = true\nrole_arn = 'Admin'", "profiles.x.role_arn: 'Admin' is not a valid ARN"),
        ("role_arn = 'arn:aws:iam::123456789012:role/A'", "only applies to SAML profiles"),
        ("saml = true\nprincipal_arn = 'arn:aws:iam::123456789012:role/A'", "is not a valid ARN"),
    ],
)
def test_bad_policy_and_saml_values_name_the_key(tmp_path: Path, body: str, said: str) -> None:
    path = write(tmp_path / "c.toml", f"[profiles.x]\n{body}\n")
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert said in info.value.message
    assert str(path) in info.value.message
    assert info.value.hint


def test_account_names_need_account_ids(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="account_names: must map 12-digit account ids"):
        load_settings(write(tmp_path / "c.toml", 'account_names = { prod = "123" }\n'))
