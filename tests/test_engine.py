"""RefreshEngine against moto (auth on) behind the counting, MFA-enforcing STS proxy.

Every refreshed target is checked with botocore (the reference reader) and the new keys are shown to
belong to the assumed role by a boto3 GetCallerIdentity through moto.
"""

from __future__ import annotations

import configparser
import dataclasses
import logging
import os
import stat
import sys
import textwrap
import threading
from datetime import timedelta

import pytest

from stsdash.creds import Credentials
from stsdash.engine import MfaRequest, RefreshCancelled, RefreshEngine, sanitize_session_name
from stsdash.errors import MfaCodeError, NetworkError, ProviderError, StsdashError, WriteRefused
from stsdash.secrets import SecretStore
from stsdash.settings import ProfileSettings, Settings
from tests.support.awsenv import assert_resolves, resolved_credentials

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
GOOD_CODES = {"123456", "234567", "345678", "456789", "567890"}


class Codes:
    """A code provider that hands out the given answers in order and records every request."""

    def __init__(self, *answers: str | None) -> None:
        self.answers = list(answers)
        self.requests: list[MfaRequest] = []
        self.lock = threading.Lock()

    def __call__(self, request: MfaRequest) -> str | None:
        with self.lock:
            self.requests.append(dataclasses.replace(request, profiles=list(request.profiles)))
            return self.answers.pop(0) if self.answers else None


def no_codes(request: MfaRequest) -> str | None:
    raise AssertionError(f"no MFA code expected, asked for {request}")


@pytest.fixture
def setup(aws_home, sts_proxy, moto_auth, monkeypatch):
    """alice (IAM user + MFA device) and roles behind her; bob = the same keys without MFA."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    return write_profiles(aws_home, sts_proxy, moto_auth.seed)


def write_profiles(aws_home, sts_proxy, seed):
    """The shared test world: config + credentials, and the proxy's MFA rules."""
    sts_proxy.mfa_serials = {SERIAL}
    sts_proxy.valid_code = lambda code: code in GOOD_CODES
    roles = seed.roles
    aws_home.write_config(
        textwrap.dedent(
            f"""\
            [default]
            region = us-east-1

            [profile alice]
            region = us-east-1
            mfa_serial = {SERIAL}

            [profile bob]
            region = us-east-1

            [profile dev]
            role_arn = {roles["dev"]}
            source_profile = alice
            mfa_serial = {SERIAL}
            region = us-east-1

            [profile admin]
            role_arn = {roles["admin"]}
            source_profile = alice
            mfa_serial = {SERIAL}
            duration_seconds = 43200
            region = us-east-1

            [profile partner]
            role_arn = {roles["partner"]}
            source_profile = alice
            mfa_serial = {SERIAL}
            external_id = EXTID-TEST-1
            region = us-east-1

            [profile chained]
            role_arn = {roles["chained"]}
            source_profile = dev
            duration_seconds = 7200
            region = us-east-1

            [profile plain]
            role_arn = {roles["dev"]}
            source_profile = bob
            region = us-east-1

            [profile locked]
            role_arn = {roles["locked"]}
            source_profile = bob
            region = us-east-1
            """
        )
    )
    aws_home.write_credentials(
        textwrap.dedent(
            f"""\
            # long-term keys; stsdash must never touch these lines
            [alice]
            aws_access_key_id = {seed.access_key_id}
            aws_secret_access_key = {seed.secret_access_key}

            [bob]
            aws_access_key_id = {seed.access_key_id}
            aws_secret_access_key = {seed.secret_access_key}
            """
        )
    )
    return seed


def engine(**settings_kw) -> RefreshEngine:
    return RefreshEngine(settings=Settings(**settings_kw))


def caller_arn(creds, endpoint: str) -> str:
    import boto3

    client = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
    )
    return client.get_caller_identity()["Arn"]


def assert_written(target: str, result, role: str, moto_url: str) -> None:
    """botocore resolves `target` to the keys just written, and moto says they are the assumed role."""
    assert result.ok, result.error
    assert result.target == target
    frozen = resolved_credentials(target)
    assert frozen is not None and frozen.token
    assert frozen.access_key.startswith("ASIA")
    assert f":assumed-role/{role}/" in caller_arn(frozen, moto_url)
    assert result.identity is not None and f":assumed-role/{role}/" in result.identity.arn


# ------------------------------------------------------------------------------------------ MFA grouping


def test_one_code_for_every_role_behind_one_device(setup, aws_home, sts_proxy, moto_auth) -> None:
    for name in ("dev", "admin", "partner"):
        sts_proxy.require_mfa(setup.roles[name])
    eng = engine()
    names = ["dev", "admin", "partner", "chained", "alice"]
    planned = eng.mfa_requests(names)
    assert len(planned) == 1 and planned[0].serial == SERIAL
    assert sorted(planned[0].profiles) == sorted(names)
    assert "one code" in planned[0].reason

    codes = Codes("123456")
    results = {r.profile: r for r in eng.refresh(names, code_provider=codes)}

    assert len(codes.requests) == 1
    assert sorted(codes.requests[0].profiles) == sorted(names)
    # Exactly one GetSessionToken carried the code; no AssumeRole carried one.
    assert sts_proxy.calls["GetSessionToken"] == 1
    assert sts_proxy.token_calls["GetSessionToken"] == 1
    assert sts_proxy.token_calls["AssumeRole"] == 0
    assert sts_proxy.calls["AssumeRole"] == 4  # dev, admin, partner, chained (through dev)
    for name in ("dev", "admin", "partner", "chained"):
        assert_written(f"{name}-session", results[name], name, moto_auth.url)
    # The full 12 h for admin: a session-based AssumeRole is not role chaining.
    admin_params = [p for p in sts_proxy.params_of("AssumeRole") if p["RoleArn"] == setup.roles["admin"]]
    assert admin_params[0]["DurationSeconds"] == "43200"
    partner_params = [p for p in sts_proxy.params_of("AssumeRole") if p["RoleArn"] == setup.roles["partner"]]
    assert partner_params[0]["ExternalId"] == "EXTID-TEST-1"
    # chained goes through dev (a role): clamped to 1 h, and the result says so.
    chained_params = [p for p in sts_proxy.params_of("AssumeRole") if p["RoleArn"] == setup.roles["chained"]]
    assert chained_params[0]["DurationSeconds"] == "3600"
    assert any("clamped" in w for w in results["chained"].warnings)
    # alice's MFA session went to her own target and to the keyring.
    assert results["alice"].ok, results["alice"].error
    session = resolved_credentials("alice-session")
    assert session.token and session.access_key.startswith("ASIA")
    assert SecretStore().get_mfa_session(SERIAL).access_key_id == session.access_key
    # The long-term keys and the comment are untouched.
    text = aws_home.credentials.read_text()
    assert "# long-term keys; stsdash must never touch these lines" in text
    assert resolved_credentials("alice").access_key == setup.access_key_id
    assert stat.S_IMODE(aws_home.credentials.stat().st_mode) == 0o600


def test_live_mfa_session_in_keyring_is_reused_without_asking(setup, sts_proxy, moto_auth) -> None:
    sts_proxy.require_mfa(setup.roles["dev"])
    first = engine().refresh(["dev"], code_provider=Codes("123456"))
    assert first[0].ok, first[0].error
    sts_proxy.reset()
    sts_proxy.mfa_serials = {SERIAL}
    sts_proxy.require_mfa(setup.roles["dev"])
    sts_proxy.require_mfa(setup.roles["admin"])
    eng = engine()
    assert eng.mfa_requests(["dev", "admin"]) == []
    results = eng.refresh(["dev", "admin"], code_provider=no_codes)
    assert all(r.ok for r in results), [r.error for r in results]
    assert sts_proxy.calls["GetSessionToken"] == 0
    assert sts_proxy.token_calls["AssumeRole"] == 0
    assert_written("admin-session", results[1], "admin", moto_auth.url)


def test_credential_source_environment_falls_back_to_one_code_per_role(
    setup, aws_home, sts_proxy, moto_auth, monkeypatch
) -> None:
    with aws_home.config.open("a") as f:
        f.write(
            f"\n[profile envrole]\nrole_arn = {setup.roles['dev']}\ncredential_source = Environment\n"
            f"mfa_serial = {SERIAL}\nregion = us-east-1\n"
        )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", setup.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", setup.secret_access_key)
    eng = engine()
    planned = eng.mfa_requests(["envrole", "admin"])
    by_profile = {tuple(r.profiles): r for r in planned}
    assert set(by_profile) == {("envrole",), ("admin",)}
    assert "credential_source" in by_profile[("envrole",)].reason
    codes = Codes("123456", "234567")
    results = eng.refresh(["envrole", "admin"], code_provider=codes)
    assert all(r.ok for r in results), [r.error for r in results]
    assert len(codes.requests) == 2
    assert sts_proxy.token_calls["AssumeRole"] == 1  # envrole's own code
    assert sts_proxy.token_calls["GetSessionToken"] == 1  # admin via alice's session
    assert_written("envrole-session", results[0], "dev", moto_auth.url)


def test_role_chained_through_a_role_with_its_own_mfa_asks_separately(setup, aws_home, sts_proxy) -> None:
    with aws_home.config.open("a") as f:
        f.write(
            f"\n[profile deep]\nrole_arn = {setup.roles['chained']}\nsource_profile = chained\n"
            f"mfa_serial = {SERIAL}\nregion = us-east-1\n"
        )
    eng = engine()
    planned = eng.mfa_requests(["deep"])
    assert len(planned) == 2  # the session (dev via alice) and deep's own AssumeRole
    assert all(r.profiles == ["deep"] for r in planned)
    assert sum("chaining" in r.reason for r in planned) == 1
    results = eng.refresh(["deep"], code_provider=Codes("123456", "234567"))
    assert results[0].ok, results[0].error
    assert sts_proxy.calls["AssumeRole"] == 3  # dev -> chained -> deep, any depth
    assert resolved_credentials("deep-session").token


def test_wrong_then_reused_then_good_code_retries_with_the_sts_message(setup, aws_home, sts_proxy) -> None:
    sts_proxy.require_mfa(setup.roles["dev"])
    first = engine().refresh(["dev"], code_provider=Codes("123456"))
    assert first[0].ok
    SecretStore().delete_mfa_session(SERIAL)
    codes = Codes("000000", "123456", "234567")  # wrong, reused, good
    results = engine().refresh(["dev"], code_provider=codes)
    assert results[0].ok, results[0].error
    assert [r.attempt for r in codes.requests] == [1, 2, 3]
    assert codes.requests[0].last_error is None
    assert "invalid MFA one time pass code" in codes.requests[1].last_error
    assert "invalid MFA one time pass code" in codes.requests[2].last_error


def test_mfa_process_supplies_the_code(setup, aws_home, sts_proxy, tmp_path) -> None:
    script = tmp_path / "totp.py"
    script.write_text("print('345678')\n")
    alice = f"[profile alice]\nregion = us-east-1\nmfa_serial = {SERIAL}\n"
    text = aws_home.config.read_text().replace(alice, f"{alice}mfa_process = {sys.executable} {script}\n")
    aws_home.write_config(text)
    eng = engine()
    assert eng.mfa_requests(["dev", "admin"]) == []
    results = eng.refresh(["dev", "admin"], code_provider=no_codes)
    assert all(r.ok for r in results), [r.error for r in results]
    assert sts_proxy.params_of("GetSessionToken")[0]["TokenCode"] == "345678"


def test_cancel_writes_nothing(setup, aws_home, sts_proxy) -> None:
    before = aws_home.credentials.read_bytes()
    results = engine().refresh(["dev", "admin", "plain"], code_provider=Codes(None))
    by = {r.profile: r for r in results}
    assert isinstance(by["dev"].error, RefreshCancelled) and "dev" in str(by["dev"].error)
    assert not by["admin"].ok
    assert by["plain"].ok  # independent of the device: not blocked
    assert sts_proxy.calls["GetSessionToken"] == 0
    after = aws_home.credentials.read_bytes()
    assert after.startswith(before)  # only [plain-session] was appended


def test_target_is_checked_before_a_code_is_spent(setup, aws_home, sts_proxy) -> None:
    with aws_home.credentials.open("a") as f:
        f.write("\n[dev-session]\naws_access_key_id = AKIAEXAMPLEOTHER0001\naws_secret_access_key = FAKE\n")
    before = aws_home.credentials.read_bytes()
    codes = Codes("123456")
    results = engine().refresh(["dev"], code_provider=codes)
    assert not results[0].ok and "dev" in str(results[0].error)
    assert isinstance(results[0].error, (WriteRefused, StsdashError))
    assert codes.requests == []
    assert sum(sts_proxy.calls.values()) == 0
    assert aws_home.credentials.read_bytes() == before


# ------------------------------------------------------------------------------------------ failures

FAILURES = {
    "wrong-code": dict(
        profile="dev", codes=("000000", "111111", "222222"), cls=MfaCodeError, text="invalid MFA"
    ),
    "serial-not-found": dict(profile="dev", serials={"arn:aws:iam::123456789012:mfa/other"}, text="serial"),
    "not-authorized": dict(profile="locked", text="not authorized"),
    "expired-source-keys": dict(
        profile="plain",
        inject=("ExpiredToken", "The security token included in the request is expired", 403),
        text="expired",
    ),
    "duration-above-max": dict(
        profile="plain",
        inject=(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            400,
        ),
        text="MaxSessionDuration",
    ),
    "chaining-limit": dict(
        profile="plain",
        inject=(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role "
            "chaining.",
            400,
        ),
        text="1 hour",
    ),
    "clock-skew": dict(
        profile="plain",
        inject=(
            "SignatureDoesNotMatch",
            "Signature expired: 20261123T080000Z is now earlier than 20261123T090000Z "
            "(20261123T091500Z - 15 min.)",
            403,
        ),
        text="clock",
    ),
    "region-disabled": dict(
        profile="plain",
        inject=(
            "RegionDisabledException",
            "STS is not activated in this region for account:123456789012. Your account administrator can "
            "activate STS in this region using the IAM Console.",
            403,
        ),
        text="not activated",
    ),
    "network-down": dict(profile="plain", network_down=True, cls=NetworkError, text=""),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failure_names_the_profile_and_leaves_the_file_alone(
    case, setup, aws_home, sts_proxy, monkeypatch
) -> None:
    spec = FAILURES[case]
    profile = spec["profile"]
    # an earlier good refresh, so "byte-identical" covers a file holding a stsdash section too
    ok = engine().refresh(["admin"], code_provider=Codes("567890"))
    assert ok[0].ok, ok[0].error
    SecretStore().delete_mfa_session(SERIAL)
    if "serials" in spec:
        sts_proxy.mfa_serials = spec["serials"]
    if "inject" in spec:
        code, message, status = spec["inject"]
        sts_proxy.inject_error(code, message, status=status, count=10, action="AssumeRole")
    if spec.get("network_down"):
        from tests.support.motoserver import free_port

        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{free_port()}")
    before = aws_home.credentials.read_bytes()
    codes = Codes(*spec.get("codes", ("123456",)))
    results = engine().refresh([profile], code_provider=codes)
    result = results[0]
    assert not result.ok
    assert isinstance(result.error, spec.get("cls", ProviderError))
    message = str(result.error)
    assert f"profile {profile}" in message
    assert spec["text"].lower() in message.lower()
    assert aws_home.credentials.read_bytes() == before
    if case == "wrong-code":
        assert [r.attempt for r in codes.requests] == [1, 2, 3]


def test_one_failure_never_blocks_or_corrupts_another(setup, aws_home, sts_proxy, moto_auth) -> None:
    results = {r.profile: r for r in engine().refresh(["locked", "plain"], code_provider=no_codes)}
    assert not results["locked"].ok and "profile locked" in str(results["locked"].error)
    assert_written("plain-session", results["plain"], "dev", moto_auth.url)
    assert "[locked-session]" not in aws_home.credentials.read_text()


# ------------------------------------------------------------------------------------------ other sources


def test_credential_process_source_and_session_options(
    setup, aws_home, sts_proxy, moto_auth, tmp_path
) -> None:
    script = tmp_path / "proc.py"
    script.write_text(
        "import json\n"
        f"print(json.dumps({{'Version': 1, 'AccessKeyId': {setup.access_key_id!r}, "
        f"'SecretAccessKey': {setup.secret_access_key!r}}}))\n"
    )
    with aws_home.config.open("a") as f:
        f.write(
            f"\n[profile proc]\ncredential_process = {sys.executable} {script}\n"
            f"\n[profile viaproc]\nrole_arn = {setup.roles['admin']}\nsource_profile = proc\n"
            "source_identity = alice-TEST\nregion = us-east-1\n"
        )
    settings = Settings(
        profiles={
            "viaproc": ProfileSettings(
                session_tags={"team": "platform", "cost": "42"},
                transitive_tag_keys=["team"],
                policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                duration_seconds=7200,
                role_session_name="custom-name",
            )
        }
    )
    results = RefreshEngine(settings=settings).refresh(["viaproc"], code_provider=no_codes)
    assert_written("viaproc-session", results[0], "admin", moto_auth.url)
    params = sts_proxy.params_of("AssumeRole")[0]
    assert params["RoleSessionName"] == "custom-name"
    assert params["DurationSeconds"] == "7200"
    assert params["SourceIdentity"] == "alice-TEST"
    assert {params["Tags.member.1.Key"], params["Tags.member.2.Key"]} == {"team", "cost"}
    assert params["TransitiveTagKeys.member.1"] == "team"
    assert params["PolicyArns.member.1.arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_default_session_name_identifies_the_user(setup, sts_proxy, monkeypatch) -> None:
    monkeypatch.setenv("USER", "jane doe/ops")
    results = engine().refresh(["plain"], code_provider=no_codes)
    assert results[0].ok, results[0].error
    assert sts_proxy.params_of("AssumeRole")[0]["RoleSessionName"] == "stsdash-jane-doe-ops"
    assert sanitize_session_name("x") == "x-"
    assert len(sanitize_session_name("stsdash-" + "a" * 100)) == 64


def test_web_identity_is_unsigned(aws_home, moto_noauth, monkeypatch, tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJURVNUIn0.c2lnVEVTVA\n")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_noauth.url)
    aws_home.write_config(
        f"[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\nweb_identity_token_file = {token}\n"
        "region = us-east-1\n"
    )
    results = engine().refresh(["ci"], code_provider=no_codes)
    assert results[0].ok, results[0].error
    frozen = resolved_credentials("ci-session")
    assert frozen.token and ":assumed-role/ci/" in results[0].identity.arn


def test_sso_profiles_go_through_the_sso_interface(setup, aws_home, sts_proxy, moto_auth) -> None:
    from stsdash.providers.sts import StsClient

    class FakePortal:
        """Stands in for SsoManager: hands out real role credentials minted by moto."""

        def __init__(self) -> None:
            self.calls: list[tuple[str, str]] = []

        def role_credentials(self, session, account_id, role_name):
            self.calls.append((account_id, role_name))
            client = StsClient(endpoint_url=moto_auth.url, signing_region="us-east-1")
            creds = Credentials(setup.access_key_id, setup.secret_access_key)
            return client.assume_role(creds, role_arn=setup.roles[role_name], role_session_name="sso-TEST")

    with aws_home.config.open("a") as f:
        f.write(
            "\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
            "sso_region = us-east-1\n"
            "\n[profile ssodev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = dev\n"
            "region = us-east-1\n"
            f"\n[profile onsso]\nrole_arn = {setup.roles['chained']}\nsource_profile = ssodev\n"
            "duration_seconds = 7200\nregion = us-east-1\n"
        )
    portal = FakePortal()
    eng = RefreshEngine(settings=Settings(), sso=portal)
    results = {r.profile: r for r in eng.refresh(["ssodev", "onsso"], code_provider=no_codes)}
    assert portal.calls == [("123456789012", "dev")]  # once, shared by both
    assert_written("ssodev-session", results["ssodev"], "dev", moto_auth.url)
    assert_written("onsso-session", results["onsso"], "chained", moto_auth.url)
    assert any("clamped" in w for w in results["onsso"].warnings)


# ------------------------------------------------------------------------------------------ queries


def test_stale_whoami_and_credentials_for(setup, aws_home, sts_proxy, moto_auth) -> None:
    eng = engine()
    profiles = eng.load()
    stale = eng.stale(profiles)
    assert "plain" not in stale  # never refreshed: expiry unknown, not stale
    results = eng.refresh(["plain"], code_provider=no_codes)
    assert results[0].ok
    assert "plain" not in eng.stale(eng.load())
    assert ":assumed-role/dev/" in eng.whoami("plain").arn
    assert eng.whoami("bob").arn == setup.user_arn
    sts_proxy.reset()
    cached = eng.credentials_for("plain")
    assert sum(sts_proxy.calls.values()) == 0  # cached: > 15 min left
    assert cached.access_key_id == resolved_credentials("plain-session").access_key
    # inside refresh_ahead: stale
    assert "plain" in RefreshEngine(settings=Settings(refresh_ahead=timedelta(hours=2))).stale(eng.load())


def test_credentials_for_without_a_code_provider_fails_cleanly(setup, aws_home) -> None:
    before = aws_home.credentials.read_bytes()
    with pytest.raises(StsdashError, match="profile dev"):
        engine().credentials_for("dev")
    assert aws_home.credentials.read_bytes() == before


def test_concurrency_is_bounded_and_results_arrive_as_they_finish(setup, aws_home, sts_proxy) -> None:
    lines = []
    for i in range(12):
        role = setup.roles["dev"]
        lines.append(f"\n[profile r{i}]\nrole_arn = {role}\nsource_profile = bob\nregion = us-east-1\n")
    with aws_home.config.open("a") as f:
        f.write("".join(lines))
    # Requests wait at the proxy until 4 are in flight at once: a pool narrower than 4 would time out
    # there, and one wider than 4 would show in max_in_flight. Events, not the clock.
    sts_proxy.hold_until_concurrent(4, action="AssumeRole")
    seen: list[str] = []
    names = [f"r{i}" for i in range(12)]
    results = engine(max_concurrency=4).refresh(
        names, code_provider=no_codes, on_result=lambda r: seen.append(r.profile)
    )
    assert all(r.ok for r in results), [r.error for r in results]
    assert [r.profile for r in results] == names  # returned in request order
    assert sorted(seen) == sorted(names)
    assert not sts_proxy.gate_timed_out  # 4 were in flight at once
    assert sts_proxy.max_in_flight == 4  # and never more
    for name in names:
        assert resolved_credentials(f"{name}-session").token


def _secrets_in_logs(records: list[logging.LogRecord], secrets: set[str]) -> list[str]:
    """Every (logger, secret) pair where a record's message or traceback holds one of `secrets`."""
    formatter = logging.Formatter("%(name)s %(message)s")
    found = []
    for record in records:
        text = formatter.format(record)  # the message, and the traceback when there is one
        found += [f"{record.name}: {secret[:4]}..." for secret in secrets if secret and secret in text]
    return found


def _secrets_after_refresh(setup, aws_home) -> set[str]:
    """The long-term secret, the MFA session and every secret written by the refresh. (Not the MFA code:
    single use, and every test code is also a substring of the test account id.)"""
    parser = configparser.RawConfigParser()
    parser.read(aws_home.credentials)
    written = {
        parser.get(section, key)
        for section in parser.sections()
        for key in ("aws_secret_access_key", "aws_session_token")
        if parser.has_option(section, key)
    }
    session = SecretStore().get_mfa_session(SERIAL)
    assert session is not None and session.session_token
    return {setup.secret_access_key, session.secret_access_key, session.session_token, *written}


def test_engine_never_writes_secrets_to_logs(setup, aws_home, sts_proxy, caplog) -> None:
    """stsdash's own loggers, at DEBUG, through an MFA session, roles, a refusal and a failure."""
    caplog.set_level(logging.DEBUG, logger="stsdash")
    engine().refresh(["dev", "admin", "locked"], code_provider=Codes("123456"))
    ours = [r for r in caplog.records if r.name.startswith("stsdash.")]
    # The check sees the refresh's own records (one per hop at least), not only urllib3's.
    assert {"stsdash.refresh.run", "stsdash.refresh.writes"} <= {r.name for r in ours}
    secrets = _secrets_after_refresh(setup, aws_home)
    assert len(secrets) >= 5
    assert _secrets_in_logs(caplog.records, secrets) == []


def test_the_log_check_catches_a_leak(setup, aws_home, sts_proxy, caplog, monkeypatch) -> None:
    """The same check, with a hop that logs its secret key: it is caught (so the test above can fail)."""
    from stsdash.refresh.hops.assume_role import AssumeRoleHop

    leaky_log = logging.getLogger("stsdash.refresh.hops.assume_role")
    original = AssumeRoleHop.run

    def leaky_run(self, ctx):
        out = original(self, ctx)
        leaky_log.debug("got %s", out.creds.secret_access_key)
        return out

    monkeypatch.setattr(AssumeRoleHop, "run", leaky_run)
    caplog.set_level(logging.DEBUG, logger="stsdash")
    engine().refresh(["dev"], code_provider=Codes("123456"))
    assert _secrets_in_logs(caplog.records, _secrets_after_refresh(setup, aws_home))


def test_keys_in_keyring_serve_as_the_mfa_source(setup, aws_home, sts_proxy, moto_auth) -> None:
    SecretStore().set_long_term("alice", Credentials(setup.access_key_id, setup.secret_access_key))
    text = aws_home.credentials.read_text()
    aws_home.write_credentials(text.split("[bob]")[0].split("[alice]")[0] + "[bob]" + text.split("[bob]")[1])
    profiles = engine().load()
    assert profiles.profiles["alice"].keys_in == "keyring"
    results = engine().refresh(["dev"], code_provider=Codes("123456"))
    assert_written("dev-session", results[0], "dev", moto_auth.url)
    assert sts_proxy.token_calls["GetSessionToken"] == 1


def test_sso_profile_with_the_real_sso_manager(
    aws_home, sso_server_factory, moto_noauth, monkeypatch
) -> None:
    """Default wiring: RefreshEngine builds an SsoManager; the local portal mints moto credentials."""
    from stsdash.sso.manager import SsoManager
    from stsdash_demo.ssoserver import make_accounts
    from tests.support.ssoserver import point_botocore_at, sso_config_text

    server = sso_server_factory(accounts=make_accounts(1, 2), sts_endpoint=moto_noauth.url, auto_approve=True)
    for key in ("AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
        monkeypatch.setenv(key, server.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_noauth.url)
    point_botocore_at(aws_home, monkeypatch)
    aws_home.write_config(
        sso_config_text(server)
        + "\n[profile sso-admin]\nsso_session = corp\nsso_account_id = 100000000000\n"
        "sso_role_name = AdministratorAccess\nregion = us-east-1\n"
    )
    eng = engine()
    not_logged_in = eng.refresh(["sso-admin"], code_provider=no_codes)[0]
    assert not not_logged_in.ok and "profile sso-admin" in str(not_logged_in.error)
    manager = SsoManager(paths=eng.paths, settings=eng.settings, env=dict(os.environ))
    manager.poll_wait = lambda cancel, seconds: cancel.is_set()
    session = eng.load().sso_sessions["corp"]
    manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    result = engine().refresh(["sso-admin"], code_provider=no_codes)[0]
    assert result.ok, result.error
    frozen = resolved_credentials("sso-admin-session")
    assert ":assumed-role/AdministratorAccess/" in caller_arn(frozen, moto_noauth.url)


def test_parallel_refresh_calls_share_one_mfa_session(setup, sts_proxy) -> None:
    """Two refresh() calls at once (two TUI workers) for roles behind one device: one code, one session."""
    eng = engine()
    codes = Codes("123456", "234567")
    out: dict[str, list] = {}
    threads = [
        threading.Thread(target=lambda n=n: out.setdefault(n, eng.refresh([n], code_provider=codes)))
        for n in ("dev", "admin", "partner")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(out[n][0].ok for n in ("dev", "admin", "partner")), out
    assert len(codes.requests) == 1
    assert sts_proxy.calls["GetSessionToken"] == 1


# ------------------------------------------------------------------------------------ pool and connections


def _plain_roles(aws_home, setup, count: int) -> list[str]:
    lines = [
        f"\n[profile p{i}]\nrole_arn = {setup.roles['dev']}\nsource_profile = bob\nregion = us-east-1\n"
        for i in range(count)
    ]
    with aws_home.config.open("a") as f:
        f.write("".join(lines))
    return [f"p{i}" for i in range(count)]


def test_independent_hops_all_run_at_once_by_default(setup, aws_home, sts_proxy) -> None:
    """The pool is as wide as the graph (up to max_concurrency): 12 roles behind one session, one wave."""
    names = ["dev", "admin", "partner", *_plain_roles(aws_home, setup, 9)]
    sts_proxy.hold_until_concurrent(12, action="AssumeRole")  # only 12 at once get through
    results = engine().refresh(names, code_provider=Codes("123456"))
    assert all(r.ok for r in results), [r.error for r in results]
    assert sts_proxy.calls["AssumeRole"] == 12
    assert not sts_proxy.gate_timed_out
    # and max_concurrency still bounds it
    sts_proxy.reset()
    sts_proxy.hold_until_concurrent(3)
    results = engine(max_concurrency=3).refresh(names[3:], code_provider=no_codes)
    assert all(r.ok for r in results), [r.error for r in results]
    assert not sts_proxy.gate_timed_out
    assert sts_proxy.max_in_flight == 3


def test_one_refresh_reuses_keep_alive_connections(setup, aws_home, sts_proxy) -> None:
    """Every hop of a refresh shares one connection pool: one at a time means one connection."""
    names = _plain_roles(aws_home, setup, 5)
    results = engine(max_concurrency=1).refresh(["dev", *names], code_provider=Codes("123456"))
    assert all(r.ok for r in results), [r.error for r in results]
    assert sum(sts_proxy.calls.values()) == 7  # GetSessionToken + 6 AssumeRole
    assert len({r.client_port for r in sts_proxy.records}) == 1


# ----------------------------------------------------------------- settings.source_mfa_serial


def _role_via_mfa_user(aws_home, setup) -> None:
    """`viaalice`: a role whose source (alice) has keys + mfa_serial, the role itself no mfa_serial."""
    with aws_home.config.open("a") as f:
        f.write(
            f"\n[profile viaalice]\nrole_arn = {setup.roles['dev']}\nsource_profile = alice\n"
            "region = us-east-1\n"
        )


def _assert_botocore_reads_exactly(target: str, creds: Credentials, moto_url: str) -> None:
    frozen = assert_resolves(target, creds)
    assert ":assumed-role/dev/" in caller_arn(frozen, moto_url)


def test_source_mfa_serial_session_is_the_default(setup, aws_home, sts_proxy, moto_auth) -> None:
    """Default: alice's mfa_serial puts the role behind her MFA session (one code per device)."""
    _role_via_mfa_user(aws_home, setup)
    assert Settings().source_mfa_serial == "session"
    codes = Codes("123456")
    creds = engine().credentials_for("viaalice", code_provider=codes)
    assert len(codes.requests) == 1 and codes.requests[0].serial == SERIAL
    assert (sts_proxy.calls["GetSessionToken"], sts_proxy.token_calls["GetSessionToken"]) == (1, 1)
    assert (sts_proxy.calls["AssumeRole"], sts_proxy.token_calls["AssumeRole"]) == (1, 0)
    (assume,) = [r for r in sts_proxy.records if r.action == "AssumeRole"]
    assert assume.access_key_id.startswith("ASIA")  # signed with the MFA session
    _assert_botocore_reads_exactly("viaalice-session", creds, moto_auth.url)


def test_source_mfa_serial_ignore_does_what_botocore_does(setup, aws_home, sts_proxy, moto_auth) -> None:
    """"ignore": AssumeRole signed with alice's long-term keys, no GetSessionToken, no code."""
    _role_via_mfa_user(aws_home, setup)
    eng = engine(source_mfa_serial="ignore")
    assert eng.mfa_requests(["viaalice"]) == []
    creds = eng.credentials_for("viaalice", code_provider=no_codes)
    assert sts_proxy.calls["GetSessionToken"] == 0
    assert (sts_proxy.calls["AssumeRole"], sts_proxy.token_calls["AssumeRole"]) == (1, 0)
    (assume,) = [r for r in sts_proxy.records if r.action == "AssumeRole"]
    assert assume.access_key_id == setup.access_key_id
    _assert_botocore_reads_exactly("viaalice-session", creds, moto_auth.url)

    # botocore itself, resolving the role profile, sends the same single call.
    sts_proxy.reset()
    frozen = resolved_credentials("viaalice")
    assert frozen is not None and frozen.token
    assert dict(sts_proxy.calls) == {"AssumeRole": 1} and sts_proxy.token_calls["AssumeRole"] == 0
    assert sts_proxy.records[0].access_key_id == setup.access_key_id


def test_source_mfa_serial_ignore_keeps_one_session_for_roles_with_their_own(setup, sts_proxy) -> None:
    """A role's own mfa_serial is not affected: roles that need the device still share one code."""
    sts_proxy.require_mfa(setup.roles["admin"])
    sts_proxy.require_mfa(setup.roles["partner"])
    codes = Codes("123456")
    results = engine(source_mfa_serial="ignore").refresh(["dev", "admin", "partner"], code_provider=codes)
    assert all(r.ok for r in results), [r.error for r in results]
    assert len(codes.requests) == 1
    assert (sts_proxy.calls["GetSessionToken"], sts_proxy.token_calls["GetSessionToken"]) == (1, 1)
    assert (sts_proxy.calls["AssumeRole"], sts_proxy.token_calls["AssumeRole"]) == (3, 0)
