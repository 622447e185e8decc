"""The profile model against botocore: same provider, same shadowing, same errors (as problems)."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsdash.awsfiles.paths import aws_paths
from stsdash.awsfiles.ssocache import token_filename
from stsdash.errors import FileFormatError
from stsdash.profiles import Kind, ProfileSet, Status, load_profiles
from stsdash.settings import ProfileSettings, Settings
from tests.support.awsenv import AwsHome, botocore_session

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AHEAD = timedelta(minutes=15)
KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TEMP_KEY = "ASIAIOSFODNN7EXAMPLE"
KEYS = f"aws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"
ROLE = "arn:aws:iam::123456789012:role/Admin"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"

# botocore's credential provider name for each kind (the method of the credentials it returns).
METHOD_OF = {
    Kind.STATIC: {"shared-credentials-file", "config-file"},
    Kind.MFA_USER: {"shared-credentials-file", "config-file"},
    Kind.SESSION: {"shared-credentials-file", "config-file"},
    Kind.ASSUME_ROLE: {"assume-role"},
    Kind.SSO: {"sso"},
    Kind.WEB_IDENTITY: {"assume-role-with-web-identity"},
    Kind.PROCESS: {"custom-process"},
}


def setup(aws: AwsHome, config: str = "", credentials: str = "") -> None:
    aws.write_config(config)
    aws.write_credentials(credentials)


def load(aws: AwsHome, settings: Settings | None = None) -> ProfileSet:
    return load_profiles(aws_paths(aws.env), settings, now=NOW)


def botocore_method(profile: str) -> str | None:
    creds = botocore_session(profile).get_credentials()
    return None if creds is None else creds.method


def assert_agrees(ps: ProfileSet, name: str) -> str | None:
    """Our kind and botocore's provider agree for `name`; returns botocore's method."""
    method = botocore_method(name)
    kind = ps.profiles[name].kind
    if kind is Kind.NONE:
        assert method is None, f"{name}: botocore used {method}, we said none"
    else:
        assert method in METHOD_OF[kind], f"{name}: botocore used {method}, we said {kind}"
    return method


def process_script(tmp: Path) -> str:
    script = tmp / "creds.py"
    script.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'ASIAPROCESSEXAMPLE', "
        "'SecretAccessKey': 'FAKESECRET', 'SessionToken': 'FAKETOKEN'}))\n"
    )
    return f"{sys.executable} {script}"


def write_sso_token(aws: AwsHome, name: str, expires: datetime, **extra: str) -> Path:
    path = aws.sso_cache / token_filename(name)
    data = {
        "startUrl": "https://example.awsapps.com/start",
        "region": "us-east-1",
        "accessToken": "FAKE-ACCESS-TOKEN",
        "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **extra,
    }
    path.write_text(json.dumps(data))
    return path


# ------------------------------------------------------------------------------------ every kind


def test_every_kind_agrees_with_botocore(aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> None:
    # credential_source = Environment resolves its source keys when botocore loads the profile
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "FAKE-ENV-SECRET")
    cmd = process_script(aws_home.root)
    token_file = aws_home.root / "web-token"
    token_file.write_text("FAKE.JWT.TOKEN")
    setup(
        aws_home,
        f"[profile static]\nregion = us-east-1\n[profile cfgstatic]\n{KEYS}"
        f"[profile mfauser]\nmfa_serial = {SERIAL}\n"
        f"[profile role]\nrole_arn = {ROLE}\nsource_profile = static\n"
        f"[profile envrole]\nrole_arn = {ROLE}\ncredential_source = Environment\n"
        f"[profile web]\nrole_arn = {ROLE}\nweb_identity_token_file = {token_file}\n"
        "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\n"
        "[profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = Read\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
        f"[profile proc]\ncredential_process = {cmd}\n"
        "[profile regiononly]\nregion = eu-west-1\n",
        f"[static]\n{KEYS}[mfauser]\n{KEYS}"
        f"[session]\naws_access_key_id = {TEMP_KEY}\naws_secret_access_key = FAKESECRET\n"
        "aws_session_token = FAKETOKEN\n",
    )
    write_sso_token(aws_home, "corp", NOW + timedelta(hours=8))
    ps = load(aws_home)
    expected = {
        "static": Kind.STATIC,
        "cfgstatic": Kind.STATIC,
        "mfauser": Kind.MFA_USER,
        "role": Kind.ASSUME_ROLE,
        "envrole": Kind.ASSUME_ROLE,
        "web": Kind.WEB_IDENTITY,
        "sso": Kind.SSO,
        "legacy": Kind.SSO,
        "proc": Kind.PROCESS,
        "regiononly": Kind.NONE,
        "session": Kind.SESSION,
    }
    assert {n: ps.profiles[n].kind for n in expected} == expected
    for name in expected:
        assert_agrees(ps, name)
    assert ps.profiles["static"].keys_in == "credentials"
    assert ps.profiles["cfgstatic"].keys_in == "config"
    assert botocore_method("cfgstatic") == "config-file"
    assert ps.profiles["session"].static_credentials.is_temporary
    assert all(p.problem is None for p in ps.profiles.values()), {
        n: p.problem for n, p in ps.profiles.items()
    }


# ------------------------------------------------------------------------------------ shadowing


def test_keys_plus_role_arn_is_assume_role(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        f"[profile x]\nrole_arn = {ROLE}\nsource_profile = base\n[profile base]\n",
        f"[x]\n{KEYS}[base]\n{KEYS}",
    )
    ps = load(aws_home)
    assert ps.profiles["x"].kind is Kind.ASSUME_ROLE
    assert assert_agrees(ps, "x") == "assume-role"
    # its own section holds long-term keys and is shadowed anyway: never its own target
    assert ps.profiles["x"].target == "x-session"


def test_keys_plus_sso_is_sso(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        "[profile x]\nsso_account_id = 123456789012\nsso_role_name = R\n"
        "sso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n",
        f"[x]\n{KEYS}",
    )
    ps = load(aws_home)
    assert ps.profiles["x"].kind is Kind.SSO
    assert assert_agrees(ps, "x") == "sso"


def test_keys_in_credentials_beat_credential_process(aws_home: AwsHome) -> None:
    setup(aws_home, f"[profile x]\ncredential_process = {process_script(aws_home.root)}\n", f"[x]\n{KEYS}")
    ps = load(aws_home)
    assert ps.profiles["x"].kind is Kind.STATIC
    assert assert_agrees(ps, "x") == "shared-credentials-file"


def test_keys_in_config_lose_to_credential_process(aws_home: AwsHome) -> None:
    setup(aws_home, f"[profile x]\ncredential_process = {process_script(aws_home.root)}\n{KEYS}")
    ps = load(aws_home)
    assert ps.profiles["x"].kind is Kind.PROCESS
    assert assert_agrees(ps, "x") == "custom-process"
    assert ps.profiles["x"].target is None  # botocore refreshes process credentials itself


def test_web_identity_beats_keys_and_role(aws_home: AwsHome) -> None:
    token = aws_home.root / "tok"
    token.write_text("FAKE")
    setup(aws_home, f"[profile x]\nrole_arn = {ROLE}\nweb_identity_token_file = {token}\n", f"[x]\n{KEYS}")
    ps = load(aws_home)
    assert ps.profiles["x"].kind is Kind.WEB_IDENTITY
    assert assert_agrees(ps, "x") == "assume-role-with-web-identity"


def test_mfa_serial_with_keys_is_mfa_user_and_botocore_uses_the_keys(aws_home: AwsHome) -> None:
    setup(aws_home, f"[profile alice]\nmfa_serial = {SERIAL}\n", f"[alice]\n{KEYS}")
    ps = load(aws_home)
    alice = ps.profiles["alice"]
    assert alice.kind is Kind.MFA_USER
    assert alice.account_id == "123456789012"
    assert assert_agrees(ps, "alice") == "shared-credentials-file"
    assert alice.target == "alice-session"  # never the section holding long-term keys


def test_security_token_wins_over_session_token(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        "",
        f"[x]\naws_access_key_id = {TEMP_KEY}\naws_secret_access_key = S\n"
        "aws_session_token = FAKE-SESSION\naws_security_token = FAKE-SECURITY\n",
    )
    ps = load(aws_home)
    assert ps.profiles["x"].static_credentials.session_token == "FAKE-SECURITY"
    assert botocore_session("x").get_credentials().token == "FAKE-SECURITY"


# ------------------------------------------------------------------------------------ targets


def assert_target_usable(aws: AwsHome, ps: ProfileSet, name: str) -> None:
    """Write keys to the profile's target the way the writer does; botocore must then use exactly them."""
    target = ps.profiles[name].target
    assert target
    existing = aws.credentials.read_text() if aws.credentials.exists() else ""
    aws.write_credentials(
        existing + f"\n[{target}]\naws_access_key_id = ASIATARGETEXAMPLE\naws_secret_access_key = FAKE\n"
        "aws_session_token = FAKETOKEN\naws_credential_expiration = 2026-11-23T12:00:00Z\n"
        "x_stsdash_managed = true\n"
    )
    creds = botocore_session(target).get_credentials()
    assert creds is not None and creds.method == "shared-credentials-file"
    assert creds.access_key == "ASIATARGETEXAMPLE"


@pytest.mark.parametrize(
    ("config", "credentials", "name", "target"),
    [
        (
            f"[profile r]\nrole_arn = {ROLE}\nsource_profile = b\n[profile b]\n",
            f"[b]\n{KEYS}",
            "r",
            "r-session",
        ),
        (
            "[profile s]\nsso_account_id = 1\nsso_role_name = R\nsso_start_url = u\nsso_region = us-east-1\n",
            "",
            "s",
            "s-session",
        ),
        (f"[profile u]\nmfa_serial = {SERIAL}\n", f"[u]\n{KEYS}", "u", "u-session"),
        # long-term keys in the config file: the credentials section of the same name is free and wins
        (f"[profile c]\nmfa_serial = {SERIAL}\n{KEYS}", "", "c", "c"),
    ],
)
def test_default_targets_are_used_by_botocore(
    aws_home: AwsHome, config: str, credentials: str, name: str, target: str
) -> None:
    setup(aws_home, config, credentials)
    ps = load(aws_home)
    p = ps.profiles[name]
    assert p.target == target and p.problem is None
    assert_target_usable(aws_home, ps, name)
    # after the write the model is unchanged, the target is recognised and its expiry read
    again = load(aws_home)
    assert again.profiles[name].kind is p.kind
    assert again.profiles[name].target == target
    assert again.profiles[name].expires_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert again.profiles[name].status(NOW, AHEAD) is Status.FRESH
    if target != name:
        assert again.profiles[target].target_of == name
        assert target not in [x.name for x in again.visible()]


def test_target_override_and_template_from_settings(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        f"[profile r]\nrole_arn = {ROLE}\nsource_profile = b\n[profile q]\nrole_arn = {ROLE}\n"
        "source_profile = b\n",
        f"[b]\n{KEYS}",
    )
    settings = Settings(target_template="tmp-{profile}", profiles={"q": ProfileSettings(target="mine")})
    ps = load(aws_home, settings)
    assert ps.profiles["r"].target == "tmp-r"
    assert ps.profiles["q"].target == "mine"


@pytest.mark.parametrize(
    ("extra_config", "extra_credentials", "words"),
    [
        (f"[profile r-session]\nrole_arn = {ROLE}\nsource_profile = b\n", "", "role_arn"),
        ("[profile r-session]\nsso_account_id = 1\nsso_role_name = x\n", "", "sso_account_id"),
        ("[profile r-session]\ncredential_process = /bin/true\n", "", "credential_process"),
        ("", f"[r-session]\n{KEYS}", "long-term keys"),
        (f"[profile r-session]\n{KEYS}", "", "would shadow the keys"),
        (
            "",
            f"[r-session]\naws_access_key_id = {TEMP_KEY}\naws_secret_access_key = S\n"
            "aws_session_token = T\n",
            "not written by stsdash",
        ),
    ],
)
def test_bad_targets_are_problems(
    aws_home: AwsHome, extra_config: str, extra_credentials: str, words: str
) -> None:
    setup(
        aws_home,
        f"[profile r]\nrole_arn = {ROLE}\nsource_profile = b\n{extra_config}",
        f"[b]\n{KEYS}{extra_credentials}",
    )
    ps = load(aws_home)
    r = ps.profiles["r"]
    assert r.target == "r-session"
    assert r.problem and words in r.problem
    assert r.status(NOW, AHEAD) is Status.PROBLEM
    assert not r.refreshable


def test_two_profiles_with_one_target_are_problems(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n[profile c]\nrole_arn = {ROLE}\n"
        "source_profile = b\n",
        f"[b]\n{KEYS}",
    )
    ps = load(
        aws_home,
        Settings(profiles={"a": ProfileSettings(target="same"), "c": ProfileSettings(target="same")}),
    )
    assert "also the target of profile c" in ps.profiles["a"].problem
    assert "also the target of profile a" in ps.profiles["c"].problem


def test_expiry_keys_and_zone_less_warning(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n[profile c]\nrole_arn = {ROLE}\n"
        f"source_profile = b\n[profile d]\nrole_arn = {ROLE}\nsource_profile = b\n",
        f"[b]\n{KEYS}"
        "[a-session]\nx_stsdash_managed = true\naws_access_key_id = ASIAX\naws_secret_access_key = S\n"
        "aws_session_token = T\nx_security_token_expires = 2026-11-23T09:10:00+00:00\n"
        "[c-session]\nx_stsdash_managed = true\naws_access_key_id = ASIAX\naws_secret_access_key = S\n"
        "aws_session_token = T\nexpiration = 2026-11-23 08:00:00\n"
        "[d-session]\nx_stsdash_managed = true\naws_access_key_id = ASIAX\naws_secret_access_key = S\n"
        "aws_session_token = T\n",
    )
    ps = load(aws_home)
    a, c, d = ps.profiles["a"], ps.profiles["c"], ps.profiles["d"]
    assert a.expires_at == datetime(2026, 11, 23, 9, 10, tzinfo=UTC)
    assert a.status(NOW, AHEAD) is Status.EXPIRING
    assert not a.warnings
    assert c.expires_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert c.status(NOW, AHEAD) is Status.EXPIRED
    assert any("no timezone" in w for w in c.warnings)
    assert d.expires_at is None and d.status(NOW, AHEAD) is Status.UNKNOWN
    assert a.status(NOW, timedelta(minutes=5)) is Status.FRESH


def test_static_and_none_are_unknown(aws_home: AwsHome) -> None:
    setup(aws_home, "[profile n]\nregion = x\n", f"[s]\n{KEYS}")
    ps = load(aws_home)
    assert ps.profiles["s"].status(NOW, AHEAD) is Status.UNKNOWN
    assert ps.profiles["n"].status(NOW, AHEAD) is Status.UNKNOWN
    assert not ps.profiles["s"].refreshable and ps.profiles["s"].target is None


def test_keyring_mfa_user_targets_its_own_name(aws_home: AwsHome) -> None:
    """Keys moved to the keyring leave only mfa_serial; session keys go under the profile's own name."""
    setup(aws_home, f"[profile alice]\nmfa_serial = {SERIAL}\nregion = eu-west-1\n")
    ps = load(aws_home)
    alice = ps.profiles["alice"]
    assert (alice.kind, alice.keys_in, alice.target) == (Kind.MFA_USER, "keyring", "alice")
    assert_target_usable(aws_home, ps, "alice")
    again = load(aws_home).profiles["alice"]
    assert (again.kind, again.keys_in, again.target, again.target_of) == (
        Kind.MFA_USER,
        "keyring",
        "alice",
        None,
    )
    assert again.static_credentials is None  # the written session keys are output, not the user's keys
    assert again.expires_at is not None


# ------------------------------------------------------------------------------------ file semantics


def test_inline_comment_and_key_case(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        "[profile x]\nREGION = us-east-1 # prod\n",
        f"[x]\nAWS_ACCESS_KEY_ID = {KEY}\nAws_Secret_Access_Key = {SECRET}\n",
    )
    ps = load(aws_home)
    assert ps.profiles["x"].region == "us-east-1 # prod"
    assert botocore_session("x").get_config_variable("region") == "us-east-1 # prod"
    assert ps.profiles["x"].kind is Kind.STATIC
    assert assert_agrees(ps, "x") == "shared-credentials-file"


def test_credentials_file_overrides_config_per_key(aws_home: AwsHome) -> None:
    setup(aws_home, "[profile x]\nregion = us-east-1\noutput = json\n", f"[x]\nregion = eu-west-1\n{KEYS}")
    ps = load(aws_home)
    assert ps.profiles["x"].region == "eu-west-1"
    session = botocore_session("x")
    assert session.full_config["profiles"]["x"]["region"] == "eu-west-1"
    assert session.full_config["profiles"]["x"]["output"] == "json"


def test_credentials_file_role_arn_overrides_config(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        "[profile x]\nregion = us-east-1\n",
        f"[x]\nrole_arn = {ROLE}\nsource_profile = b\n[b]\n{KEYS}",
    )
    ps = load(aws_home)
    assert ps.profiles["x"].kind is Kind.ASSUME_ROLE
    assert assert_agrees(ps, "x") == "assume-role"


def test_nothing_inherits_from_default(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        f"[default]\nregion = us-west-2\nrole_arn = {ROLE}\nsource_profile = b\n[profile x]\n",
        f"[b]\n{KEYS}",
    )
    ps = load(aws_home)
    assert ps.profiles["x"].region is None
    assert ps.profiles["x"].kind is Kind.NONE
    assert assert_agrees(ps, "x") is None


def test_profile_prefix_in_credentials_file_is_part_of_the_name(aws_home: AwsHome) -> None:
    setup(aws_home, "", f"[profile x]\n{KEYS}")
    ps = load(aws_home)
    assert list(ps.profiles) == ["profile x"]
    assert assert_agrees(ps, "profile x") == "shared-credentials-file"
    with pytest.raises(botocore.exceptions.ProfileNotFound):
        botocore_session("x").get_credentials()


def test_section_names_like_botocore(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        '[profile "a b"]\nregion = q\n[profile c d]\n[Profile e]\n[profilefoo]\n[foo]\n'
        "[profile  spaced]\nregion = s\n",
    )
    ps = load(aws_home)
    assert list(ps.profiles) == ["a b", "spaced"]
    assert set(botocore_session("a b").full_config["profiles"]) == {"a b", "spaced"}


def test_default_and_profile_default_later_wins_wholesale(aws_home: AwsHome) -> None:
    setup(aws_home, "[default]\nregion = a\noutput = json\n[profile default]\nregion = b\n")
    ps = load(aws_home)
    assert ps.profiles["default"].region == "b"
    assert botocore_session("default").full_config["profiles"]["default"] == {"region": "b"}
    setup(aws_home, "[profile default]\nregion = b\n[default]\nregion = a\n")
    assert load(aws_home).profiles["default"].region == "a"


def test_profiles_order_config_then_credentials_only(aws_home: AwsHome) -> None:
    setup(aws_home, "[profile z]\n[profile a]\n", f"[m]\n{KEYS}[a]\n{KEYS}")
    assert list(load(aws_home).profiles) == ["z", "a", "m"]


def test_services_sections(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        "[profile x]\nservices = local\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:1\n",
    )
    ps = load(aws_home)
    assert ps.profiles["x"].services == "local"
    assert ps.services == {"local": {"sts": {"endpoint_url": "http://127.0.0.1:1"}}}


def test_managed_marker_is_not_config(aws_home: AwsHome) -> None:
    setup(aws_home, "[profile x]\nregion = q\n", "[x]\nx_stsdash_managed = true\n")
    ps = load(aws_home)
    assert ps.profiles["x"].kind is Kind.NONE
    assert assert_agrees(ps, "x") is None


@pytest.mark.parametrize(
    ("which", "data", "line"),
    [
        ("config", b"[profile a]\n[profile a]\n", 2),
        ("credentials", b"[a]\nk = 1\nk = 2\n", 3),
        ("config", b"\xef\xbb\xbf[default]\n", 1),
        ("credentials", b"[a]\n\nk = \xff\n", 3),
    ],
)
def test_malformed_files_raise_with_line(aws_home: AwsHome, which: str, data: bytes, line: int) -> None:
    path = aws_home.config if which == "config" else aws_home.credentials
    path.write_bytes(data)
    with pytest.raises(FileFormatError) as info:
        load(aws_home)
    assert info.value.path == path and info.value.line == line
    with pytest.raises(botocore.exceptions.ConfigParseError):
        botocore_session("a").get_credentials()


# ------------------------------------------------------------------------------------ chains


def test_chain_through_roles(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        f"[profile top]\nrole_arn = {ROLE}\nsource_profile = mid\n"
        f"[profile mid]\nrole_arn = {ROLE}\nsource_profile = user\n[profile user]\nmfa_serial = {SERIAL}\n",
        f"[user]\n{KEYS}",
    )
    ps = load(aws_home)
    assert ps.profiles["top"].chain == ["top", "mid", "user"]
    assert ps.profiles["mid"].chain == ["mid", "user"]
    assert ps.profiles["user"].chain == ["user"]
    assert assert_agrees(ps, "top") == "assume-role"


def test_source_with_keys_and_role_uses_keys(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        f"[profile top]\nrole_arn = {ROLE}\nsource_profile = mid\n"
        f"[profile mid]\nrole_arn = {ROLE}\nsource_profile = nowhere\n",
        f"[mid]\n{KEYS}",
    )
    ps = load(aws_home)
    assert ps.profiles["top"].chain == ["top", "mid"]
    assert ps.profiles["top"].problem is None
    assert "nowhere" in ps.profiles["mid"].problem
    assert botocore_method("top") == "assume-role"


def test_self_reference_with_keys_is_fine(aws_home: AwsHome) -> None:
    setup(aws_home, f"[profile me]\nrole_arn = {ROLE}\nsource_profile = me\n", f"[me]\n{KEYS}")
    ps = load(aws_home)
    me = ps.profiles["me"]
    assert me.problem is None and me.chain == ["me"] and me.static_credentials.access_key_id == KEY
    assert assert_agrees(ps, "me") == "assume-role"


@pytest.mark.parametrize(
    ("config", "name", "words", "error"),
    [
        (
            f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n"
            f"[profile b]\nrole_arn = {ROLE}\nsource_profile = a\n",
            "a",
            "loop: a -> b -> a",
            botocore.exceptions.InfiniteLoopConfigError,
        ),
        (
            f"[profile a]\nrole_arn = {ROLE}\nsource_profile = a\n",
            "a",
            "loop: a -> a",
            botocore.exceptions.InfiniteLoopConfigError,
        ),
        (
            f"[profile a]\nrole_arn = {ROLE}\nsource_profile = ghost\n",
            "a",
            "ghost does not exist",
            botocore.exceptions.InvalidConfigError,
        ),
        (
            f"[profile a]\nrole_arn = {ROLE}\n",
            "a",
            "without source_profile or credential_source",
            botocore.exceptions.PartialCredentialsError,
        ),
        (
            f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n"
            "credential_source = Environment\n[profile b]\n",
            "a",
            "both source_profile and credential_source",
            botocore.exceptions.InvalidConfigError,
        ),
        (
            f"[profile a]\nrole_arn = {ROLE}\ncredential_source = environment\n",
            "a",
            "not valid",
            botocore.exceptions.InvalidConfigError,
        ),
        (
            f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n[profile b]\nregion = x\n",
            "a",
            "has no credentials",
            botocore.exceptions.InvalidConfigError,
        ),
        (
            f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n[profile b]\nrole_arn = {ROLE}\n",
            "a",
            "without source_profile or credential_source (in source profile b)",
            botocore.exceptions.PartialCredentialsError,
        ),
    ],
)
def test_broken_chains_are_problems_like_botocore_errors(
    aws_home: AwsHome, config: str, name: str, words: str, error: type[Exception]
) -> None:
    setup(aws_home, config)
    ps = load(aws_home)  # never raises
    p = ps.profiles[name]
    assert p.kind is Kind.ASSUME_ROLE
    assert p.problem and words in p.problem, p.problem
    assert p.status(NOW, AHEAD) is Status.PROBLEM
    with pytest.raises(error):
        botocore_session(name).get_credentials()


def test_missing_secret_is_a_problem(aws_home: AwsHome) -> None:
    setup(aws_home, "", f"[x]\naws_access_key_id = {KEY}\n")
    ps = load(aws_home)
    assert "aws_secret_access_key" in ps.profiles["x"].problem
    with pytest.raises(botocore.exceptions.PartialCredentialsError):
        botocore_session("x").get_credentials()


# ------------------------------------------------------------------------------------ SSO


SSO_CONFIG = """
[profile a]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Admin
region = eu-west-1
[profile b]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Read
[profile old]
sso_start_url = https://old.awsapps.com/start
sso_region = us-west-2
sso_account_id = 333333333333
sso_role_name = Read
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access, other:scope
"""


def test_sso_sessions_and_tokens(aws_home: AwsHome) -> None:
    setup(aws_home, SSO_CONFIG)
    write_sso_token(
        aws_home,
        "corp",
        NOW + timedelta(hours=1),
        refreshToken="FAKE-R",
        clientId="cid",
        clientSecret="FAKE-S",
        registrationExpiresAt="2027-01-01T00:00:00Z",
    )
    write_sso_token(
        aws_home,
        "https://old.awsapps.com/start",
        NOW - timedelta(minutes=1),
        refreshToken="FAKE-R",
        clientId="cid",
        clientSecret="FAKE-S",
        registrationExpiresAt="2027-01-01T00:00:00Z",
    )
    ps = load(aws_home)
    corp, old = ps.sso_sessions["corp"], ps.sso_sessions["https://old.awsapps.com/start"]
    assert (corp.legacy, corp.start_url, corp.region) == (
        False,
        "https://corp.awsapps.com/start",
        "eu-west-1",
    )
    assert corp.scopes == ["sso:account:access", "other:scope"]
    assert corp.profiles == ["a", "b"]
    assert corp.token_expires_at == NOW + timedelta(hours=1)
    assert corp.token_refreshable  # refresh token, client, unexpired registration
    assert corp.status(NOW, AHEAD) is Status.FRESH
    assert corp.cache_file.name == "ee0bfd2552fbd840c02cc48b6e823320543c450f.json"
    assert old.legacy and old.profiles == ["old"] and old.region == "us-west-2"
    assert not old.token_refreshable  # legacy tokens never refresh
    assert old.status(NOW, AHEAD) is Status.EXPIRED
    a = ps.profiles["a"]
    assert (a.sso_start_url, a.sso_region, a.account_id) == (
        "https://corp.awsapps.com/start",
        "eu-west-1",
        "111111111111",
    )
    for name in ("a", "b", "old"):
        assert assert_agrees(ps, name) == "sso"


def test_sso_token_refreshable_needs_unexpired_registration(aws_home: AwsHome) -> None:
    setup(aws_home, SSO_CONFIG)
    write_sso_token(
        aws_home,
        "corp",
        NOW + timedelta(hours=1),
        refreshToken="FAKE-R",
        clientId="cid",
        clientSecret="FAKE-S",
        registrationExpiresAt="2026-01-01T00:00:00Z",
    )
    assert not load(aws_home).sso_sessions["corp"].token_refreshable


def test_corrupt_sso_cache_is_a_session_problem(aws_home: AwsHome) -> None:
    setup(aws_home, SSO_CONFIG)
    (aws_home.sso_cache / token_filename("corp")).write_text("{not json")
    ps = load(aws_home)
    corp = ps.sso_sessions["corp"]
    assert corp.problem and "not valid JSON" in corp.problem
    # One line, the advice given once, with the session's own name in the command.
    assert "\n" not in corp.problem and corp.problem.lower().count("log in again") == 1
    assert corp.problem.endswith("log in again (stsdash sso login corp) to replace it")
    assert corp.status(NOW, AHEAD) is Status.PROBLEM
    assert ps.sso_sessions["https://old.awsapps.com/start"].token_expires_at is None


def test_sso_mismatch_and_missing_session_are_problems(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        SSO_CONFIG + "[profile c]\nsso_session = corp\nsso_region = us-east-1\nsso_account_id = 1\n"
        "sso_role_name = R\n[profile d]\nsso_session = ghost\nsso_account_id = 1\n"
        "sso_role_name = R\n[profile e]\nsso_account_id = 1\n",
    )
    ps = load(aws_home)
    assert "sso_region differs" in ps.profiles["c"].problem
    assert "no [sso-session ghost]" in ps.profiles["d"].problem
    assert "missing" in ps.profiles["e"].problem and "sso_start_url" in ps.profiles["e"].problem
    for name in ("c", "d", "e"):
        with pytest.raises(botocore.exceptions.InvalidConfigError):
            botocore_session(name).get_credentials()


def test_visible_hides_targets_and_hidden(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        f"[profile r]\nrole_arn = {ROLE}\nsource_profile = b\n",
        f"[b]\n{KEYS}[r-session]\nx_stsdash_managed = true\naws_access_key_id = ASIAX\n"
        "aws_secret_access_key = S\naws_session_token = T\n",
    )
    ps = load(aws_home)
    assert [p.name for p in ps.visible()] == ["r", "b"]
    assert [p.name for p in ps.visible(["b"])] == ["r"]
    assert ps.profiles["r-session"].origins == [(aws_home.credentials, 4)]


def test_many_profiles_load_faster_than_botocore_parses_them(aws_home: AwsHome) -> None:
    import time

    import botocore.configloader

    parts = [f"[profile base]\nmfa_serial = {SERIAL}\n"]
    for i in range(3000):
        parts.append(
            f"[profile r{i}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\nsource_profile = base\n"
        )
    setup(aws_home, "".join(parts), f"[base]\n{KEYS}")

    def botocore_parse() -> None:
        botocore.configloader.load_config(str(aws_home.config))
        botocore.configloader.raw_config_parse(str(aws_home.credentials))

    ours, theirs = [], []
    for _ in range(5):  # interleaved, best of five: fair on a busy machine
        start = time.perf_counter()
        ps = load(aws_home)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        botocore_parse()
        theirs.append(time.perf_counter() - start)
    assert len(ps.profiles) == 3001
    assert all(
        p.problem is None and p.chain == [p.name, "base"] for p in ps.profiles.values() if p.name != "base"
    )
    assert min(ours) < 2 * min(theirs), f"ours {min(ours):.3f} s, botocore parse {min(theirs):.3f} s"


def test_own_name_as_target_must_not_be_shadowed_or_foreign(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        f"[profile r]\nrole_arn = {ROLE}\nsource_profile = b\n[profile k]\nmfa_serial = {SERIAL}\n",
        f"[b]\n{KEYS}[k]\nregion = eu-west-1\n",
    )
    ps = load(aws_home, Settings(profiles={"r": ProfileSettings(target="r")}))
    assert ps.profiles["r"].target == "r"
    assert "role_arn" in ps.profiles["r"].problem
    # a keyring MFA user whose own credentials section exists and is not ours: the template target
    assert (ps.profiles["k"].target, ps.profiles["k"].problem) == ("k-session", None)


def test_aws_paths_expand_like_botocore(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "MYDIR": str(tmp_path / "d"),
        "AWS_CONFIG_FILE": "$MYDIR/cfg",
        "AWS_SHARED_CREDENTIALS_FILE": "~/creds-${MYDIR}x",
    }
    paths = aws_paths(env)
    assert paths.config == tmp_path / "d" / "cfg"
    assert paths.credentials == Path(f"{tmp_path}/creds-{tmp_path}/dx")
    assert paths.sso_cache == tmp_path / ".aws" / "sso" / "cache"
    assert paths.cli_cache == tmp_path / ".aws" / "cli" / "cache"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    import botocore.session

    session = botocore.session.Session()
    for variable, ours in (("config_file", paths.config), ("credentials_file", paths.credentials)):
        raw = session.get_config_variable(variable)
        assert Path(os.path.expanduser(os.path.expandvars(raw))) == ours
    defaults = aws_paths({"HOME": str(tmp_path)})
    assert defaults.config == tmp_path / ".aws" / "config"
    assert defaults.credentials == tmp_path / ".aws" / "credentials"
    assert aws_paths({"HOME": str(tmp_path), "AWS_CONFIG_FILE": "$UNSET_VAR/c"}).config == Path(
        "$UNSET_VAR/c"
    )


def test_values_and_repr_never_hold_secrets(aws_home: AwsHome) -> None:
    setup(
        aws_home,
        "[profile x]\nuse_fips_endpoint = true\n",
        f"[x]\n{KEYS}aws_session_token = FAKE-SESSION-TOKEN\n",
    )
    x = load(aws_home).profiles["x"]
    assert x.values["use_fips_endpoint"] == "true"
    assert x.values["aws_access_key_id"] == KEY
    assert "aws_secret_access_key" not in x.values and "aws_session_token" not in x.values
    assert SECRET not in repr(x) and "FAKE-SESSION-TOKEN" not in repr(x)


# ---------------------------------------------------------------------------------- generated configurations

NAMES = ["a", "b", "c", "d"]
INGREDIENTS = st.fixed_dictionaries(
    {},
    optional={
        "creds_keys": st.sampled_from(["long", "temp", "partial"]),
        "config_keys": st.sampled_from(["long", "temp"]),
        "role": st.sampled_from(["source", "env", "both", "none", "badsource"]),
        "source": st.sampled_from([*NAMES, "ghost"]),
        "web": st.just(True),
        "sso": st.sampled_from(["session", "legacy", "account-only", "mismatch", "ghost-session"]),
        "process": st.sampled_from(["config", "credentials"]),
        "mfa": st.just(True),
        "region_in_creds": st.just(True),
    },
)


def render(name: str, spec: dict, token_file: Path, cmd: str) -> tuple[list[str], list[str]]:
    cfg: list[str] = []
    cred: list[str] = []
    long_keys = [f"aws_access_key_id = {KEY}", f"aws_secret_access_key = {SECRET}"]
    temp_keys = [
        f"aws_access_key_id = {TEMP_KEY}",
        "aws_secret_access_key = FAKE",
        "aws_session_token = FAKE",
    ]
    keys = {"long": long_keys, "temp": temp_keys, "partial": long_keys[:1]}
    if "creds_keys" in spec:
        cred += keys[spec["creds_keys"]]
    if "config_keys" in spec:
        cfg += keys[spec["config_keys"]]
    role = spec.get("role")
    if role:
        cfg.append(f"role_arn = {ROLE}")
        if role in ("source", "both"):
            cfg.append(f"source_profile = {spec.get('source', 'a')}")
        if role in ("env", "both"):
            cfg.append("credential_source = Environment")
        if role == "badsource":
            cfg.append("credential_source = Nowhere")
    if spec.get("web"):
        cfg.append(f"web_identity_token_file = {token_file}")
    sso = spec.get("sso")
    if sso:
        cfg += ["sso_account_id = 123456789012", "sso_role_name = Admin"]
        if sso in ("session", "mismatch"):
            cfg.append("sso_session = corp")
        if sso == "mismatch":
            cfg.append("sso_region = ap-south-1")
        if sso == "ghost-session":
            cfg.append("sso_session = ghost")
        if sso == "legacy":
            cfg += ["sso_start_url = https://legacy.awsapps.com/start", "sso_region = us-east-1"]
    if "process" in spec:
        (cfg if spec["process"] == "config" else cred).append(f"credential_process = {cmd}")
    if spec.get("mfa"):
        cfg.append(f"mfa_serial = {SERIAL}")
    if spec.get("region_in_creds"):
        cred.append("region = eu-west-1")
    return cfg, cred


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(INGREDIENTS, min_size=len(NAMES), max_size=len(NAMES)))
def test_generated_profiles_agree_with_botocore(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, specs: list[dict]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "FAKE-ENV-SECRET")
    token_file = aws_home.root / "web-token"
    token_file.write_text("FAKE.JWT")
    cmd = process_script(aws_home.root)
    config = [
        "[sso-session corp]",
        "sso_start_url = https://corp.awsapps.com/start",
        "sso_region = eu-west-1",
    ]
    credentials: list[str] = []
    for name, spec in zip(NAMES, specs, strict=True):
        cfg, cred = render(name, spec, token_file, cmd)
        config += [f"[profile {name}]", *cfg]
        if cred:
            credentials += [f"[{name}]", *cred]
    setup(aws_home, "\n".join(config) + "\n", "\n".join(credentials) + "\n")
    ps = load(aws_home)
    for name in NAMES:
        p = ps.profiles[name]
        try:
            creds = botocore_session(name).get_credentials()
        except botocore.exceptions.BotoCoreError as exc:
            if any(ps.profiles[n].keys_in == "keyring" for n in p.chain[1:]):
                continue  # by design: stsdash supplies a keyring MFA user's keys; botocore sees none
            assert p.problem, f"{name}: botocore raises {exc!r}, we see no problem ({p.kind})"
            continue
        method = None if creds is None else creds.method
        if method is None:
            assert p.kind is Kind.NONE or (p.kind is Kind.MFA_USER and p.keys_in == "keyring"), (name, p.kind)
            continue
        assert method in METHOD_OF[p.kind], f"{name}: botocore used {method}, we said {p.kind}"
        assert p.problem is None, f"{name}: botocore is happy ({method}) but we say {p.problem}"
