"""SAML profiles refreshed end to end against moto (through the proxy's AWS-like SAML checks).

Every written session is read back by botocore (the reference reader) and named by GetCallerIdentity
through moto. Unsigned calls need moto with auth off (see tests/support/saml.py).
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from stsdash.engine import RefreshEngine
from stsdash.saml.assertion import SamlRole, decode_assertion
from stsdash.saml.roles import RoleMemory
from stsdash.saml.session import SamlAnswer, SamlRequest
from stsdash.settings import ProfileSettings, Settings
from tests.support.awsenv import assert_resolves, resolved_credentials
from tests.support.saml import PROVIDER, make_response, role_arn

ADMIN = SamlRole(role_arn("Admin"), PROVIDER)
READ = SamlRole(role_arn("ReadOnly"), "arn:aws:iam::123456789012:saml-provider/Okta")
AUDIT = role_arn("audit")


def no_codes(request):
    raise AssertionError(f"no MFA code expected, asked for {request}")


def caller_arn(creds, endpoint: str) -> str:
    import boto3

    client = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
                          aws_session_token=creds.token)
    return client.get_caller_identity()["Arn"]


class Prompt:
    def __init__(self, *answers: SamlAnswer | None) -> None:
        self.answers = list(answers)
        self.requests: list[SamlRequest] = []

    def __call__(self, request: SamlRequest) -> SamlAnswer | None:
        self.requests.append(request)
        return self.answers.pop(0)


@pytest.fixture
def world(aws_home, saml_sts, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", saml_sts.url)
    aws_home.write_config(
        "[profile corp]\nregion = us-east-1\n\n"
        f"[profile corp-audit]\nrole_arn = {AUDIT}\nsource_profile = corp\nregion = us-east-1\n"
    )
    return aws_home


def helper(tmp_path: Path, *roles: SamlRole, **kwargs) -> str:
    """A saml_process: prints the assertion in `assertion.txt` (rewritten by tests as needed)."""
    out = tmp_path / "assertion.txt"
    out.write_text(make_response([(r.role_arn, r.principal_arn) for r in roles], **kwargs))
    return f"{sys.executable} -c \"print(open('{out}').read())\""


def engine(**profiles: ProfileSettings) -> RefreshEngine:
    return RefreshEngine(settings=Settings(profiles=profiles, account_names={"123456789012": "prod"}))


def test_one_role_from_saml_process(world, saml_sts, tmp_path) -> None:
    eng = engine(corp=ProfileSettings(saml=True, saml_process=helper(tmp_path, ADMIN), duration_seconds=7200))
    (result,) = eng.refresh(["corp"], code_provider=no_codes)
    assert result.ok, result.error
    assert result.target == "corp" and result.identity is not None
    assert result.identity.arn == "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com"
    frozen = resolved_credentials("corp")
    assert frozen is not None and frozen.token
    assert caller_arn(frozen, saml_sts.url) == result.identity.arn
    (params,) = saml_sts.params_of("AssumeRoleWithSAML")
    assert (params["RoleArn"], params["PrincipalArn"], params["DurationSeconds"]) == (
        ADMIN.role_arn, ADMIN.principal_arn, "7200")
    profile = eng.load().profiles["corp"]
    assert result.expires_at is not None  # the dashboard's countdown reads the written expiry:
    assert profile.expires_at == result.expires_at.replace(microsecond=0)
    assert eng.whoami("corp").arn == result.identity.arn  # `w` in the dashboard, `stsdash whoami`
    assert eng.credentials_for("corp").access_key_id == frozen.access_key  # cached: no new assertion
    assert saml_sts.calls["AssumeRoleWithSAML"] == 1


def test_several_roles_pick_is_remembered(world, saml_sts, tmp_path) -> None:
    eng = engine(corp=ProfileSettings(saml=True, saml_process=helper(tmp_path, ADMIN, READ)))
    (refused,) = eng.refresh(["corp"], code_provider=no_codes)  # nobody to ask
    assert not refused.ok and "offers 2 roles; pick one" in str(refused.error)
    assert saml_sts.calls["AssumeRoleWithSAML"] == 0
    prompt = Prompt(SamlAnswer(None, READ))
    (result,) = eng.refresh(["corp"], code_provider=no_codes, saml_prompt=prompt)
    assert result.ok, result.error
    (request,) = prompt.requests
    assert request.roles == (ADMIN, READ) and request.account_names == {"123456789012": "prod"}
    assert ":assumed-role/ReadOnly/" in caller_arn(resolved_credentials("corp"), saml_sts.url)
    assert RoleMemory.beside(world.settings).get("corp") == READ
    (again,) = eng.refresh(["corp"], code_provider=no_codes)  # remembered: no question
    assert again.ok and again.identity is not None and ":assumed-role/ReadOnly/" in again.identity.arn


def test_pasted_assertion(world, saml_sts) -> None:
    pasted = decode_assertion(make_response([(ADMIN.role_arn, ADMIN.principal_arn)]))
    prompt = Prompt(SamlAnswer(pasted, None))
    (result,) = engine(corp=ProfileSettings(saml=True)).refresh(["corp"], code_provider=no_codes,
                                                                saml_prompt=prompt)
    assert result.ok, result.error
    assert prompt.requests[0].need_assertion
    assert_resolves("corp", RefreshEngine(settings=Settings()).credentials_for("corp"))


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"roles": ()}, "offers no AWS role"),
        ({"roles": (ADMIN,), "expires_in": timedelta(minutes=-5)}, "the SAML assertion expired at"),
        ({"raw": "<html>Sign in</html>"}, "is a <html> document, not a SAML <Response>"),
    ],
)
def test_unusable_assertions_fail_before_sts(world, saml_sts, tmp_path, kwargs, said) -> None:
    roles = kwargs.pop("roles", ())
    command = helper(tmp_path, *roles, **{k: v for k, v in kwargs.items() if k != "raw"})
    if "raw" in kwargs:
        (tmp_path / "assertion.txt").write_text(kwargs["raw"])
    world.write_credentials("")
    (result,) = engine(corp=ProfileSettings(saml=True, saml_process=command)).refresh(
        ["corp"], code_provider=no_codes)
    assert not result.ok and said in str(result.error) and "profile corp" in str(result.error)
    assert result.error.hint
    assert saml_sts.calls["AssumeRoleWithSAML"] == 0
    assert world.credentials.read_text() == ""  # nothing written


def test_chain_from_the_saml_session(world, saml_sts, tmp_path) -> None:
    statement = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    eng = engine(
        corp=ProfileSettings(saml=True, saml_process=helper(tmp_path, ADMIN), policy=json.dumps(policy),
                             policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
        **{"corp-audit": ProfileSettings(duration_seconds=7200)},
    )
    results = {r.profile: r for r in eng.refresh(["corp", "corp-audit"], code_provider=no_codes)}
    audit = results["corp-audit"]
    assert results["corp"].ok, results["corp"].error
    assert audit.ok, audit.error
    assert audit.target == "corp-audit-session"
    assert any("clamped to 3600 s" in w for w in audit.warnings)  # role chaining from a SAML session
    frozen = resolved_credentials("corp-audit-session")
    assert ":assumed-role/audit/" in caller_arn(frozen, saml_sts.url)
    (saml_call,) = saml_sts.params_of("AssumeRoleWithSAML")
    assert json.loads(saml_call["Policy"]) == policy
    assert saml_call["PolicyArns.member.1.arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    (assume,) = [r for r in saml_sts.records if r.action == "AssumeRole"]
    corp_keys = resolved_credentials("corp")  # one SAML session: written, and it signed the role's call
    assert corp_keys is not None and assume.access_key_id == corp_keys.access_key
    # A second refresh of the role reuses the fresh SAML session: no new assertion needed.
    (Path(tmp_path) / "assertion.txt").write_text("garbage")
    (again,) = eng.refresh(["corp-audit"], code_provider=no_codes)
    assert again.ok, again.error
    assert saml_sts.calls["AssumeRoleWithSAML"] == 1


# ------------------------------------------------------------------------------------------------ the CLI


def cli(world, saml_sts, *args: str, stdin: str | None = None):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "stsdash", "refresh", *args],
        env=world.subprocess_env(AWS_ENDPOINT_URL_STS=saml_sts.url),
        input=stdin, capture_output=True, text=True, timeout=120,
        start_new_session=True,  # no controlling terminal: nobody to ask
    )


def test_cli_reads_the_assertion_from_a_file_or_stdin(world, saml_sts, tmp_path) -> None:
    world.settings.parent.mkdir(parents=True, exist_ok=True)
    world.settings.write_text("[profiles.corp]\nsaml = true\n")
    path = tmp_path / "response.b64"
    both = [(ADMIN.role_arn, ADMIN.principal_arn), (READ.role_arn, READ.principal_arn)]
    path.write_text(make_response(both))
    asked = cli(world, saml_sts, "corp", "--saml-assertion", str(path))
    assert asked.returncode == 1 and "offers 2 roles and there is no terminal" in asked.stdout
    assert "--saml-role" in asked.stdout
    done = cli(world, saml_sts, "corp", "--saml-assertion", str(path), "--saml-role", READ.role_arn)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok      corp -> [corp]" in done.stdout and ":assumed-role/ReadOnly/" in done.stdout
    assert ":assumed-role/ReadOnly/" in caller_arn(resolved_credentials("corp"), saml_sts.url)
    switched = cli(world, saml_sts, "corp", "--saml-assertion", str(path), "--saml-role", ADMIN.role_arn)
    assert switched.returncode == 0 and ":assumed-role/Admin/" in switched.stdout  # over the remembered pick
    assert RoleMemory.beside(world.settings).get("corp") == ADMIN
    piped = cli(world, saml_sts, "corp", "--saml-assertion", "-",
                stdin=make_response([(ADMIN.role_arn, ADMIN.principal_arn)]))
    assert piped.returncode == 0, piped.stdout + piped.stderr
    assert ":assumed-role/Admin/" in caller_arn(resolved_credentials("corp"), saml_sts.url)
    missing = cli(world, saml_sts, "corp")
    assert missing.returncode == 1 and "--saml-assertion FILE" in missing.stdout


def test_a_role_refreshed_alone_keeps_the_saml_session_it_went_through(world, saml_sts, tmp_path) -> None:
    with world.config.open("a") as f:
        f.write(f"\n[profile corp-dev]\nrole_arn = {role_arn('dev')}\nsource_profile = corp\n"
                "region = us-east-1\n")
    eng = engine(corp=ProfileSettings(saml=True, saml_process=helper(tmp_path, ADMIN)))
    reported = []
    (audit,) = eng.refresh(["corp-audit"], code_provider=no_codes, on_result=reported.append)
    assert audit.ok, audit.error
    assert sorted(r.profile for r in reported) == ["corp", "corp-audit"]  # the session's row updates too
    corp = resolved_credentials("corp")
    assert corp is not None and ":assumed-role/Admin/" in caller_arn(corp, saml_sts.url)
    (tmp_path / "assertion.txt").write_text("garbage")  # a second sign-in would fail now
    (dev,) = eng.refresh(["corp-dev"], code_provider=no_codes)
    assert dev.ok, dev.error
    assert saml_sts.calls["AssumeRoleWithSAML"] == 1
    assert ":assumed-role/dev/" in caller_arn(resolved_credentials("corp-dev-session"), saml_sts.url)
