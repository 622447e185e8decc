"""Every STS call stsdash makes goes where botocore's goes, signed for the same region.

For the same files and environment, botocore (a `before-send` handler answers locally with canned STS
XML) and stsdash (a transport adapter on its HTTP session does the same) are both recorded: the URL and
the SigV4 signing region of every call. Like botocore, every hop of a chain uses the settings of the
profile being resolved (the leaf), not each source profile's own.

stsdash's MFA session is a deliberate extra: for a role with mfa_serial whose source has long-term keys
it calls GetSessionToken (once per device) and assumes the role with the session. That call must go to
the same endpoint as botocore's calls.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.support.stsrecord import ROLE, SERIAL, USER_KEYS, botocore_calls, stsdash_calls


def _role(name: str, source: str, extra: str = "") -> str:
    return f"[profile {name}]\nrole_arn = {ROLE}/{name}\nsource_profile = {source}\n{extra}"


CASES = {
    "hops-in-different-regions": (
        _role("a", "b", "region = eu-west-1\n") + _role("b", "user", "region = ap-south-1\n")
        + "[profile user]\nregion = us-west-2\n",
        {},
    ),
    "intermediate-without-region": (
        _role("a", "b", "region = eu-central-1\n") + _role("b", "user"),
        {},
    ),
    "no-region-anywhere": (_role("a", "b") + _role("b", "user"), {}),
    "only-AWS_DEFAULT_REGION": (_role("a", "user"), {"AWS_DEFAULT_REGION": "ap-northeast-2"}),
    "leaf-sts_regional_endpoints-legacy": (
        _role("a", "b", "region = eu-west-1\nsts_regional_endpoints = legacy\n") + _role("b", "user"),
        {},
    ),
    "legacy-in-a-region-without-a-global-alias": (
        _role("a", "user", "region = ap-east-1\nsts_regional_endpoints = legacy\n"),
        {},
    ),
    "AWS_STS_REGIONAL_ENDPOINTS-legacy": (
        _role("a", "user", "region = us-east-2\n"),
        {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
    ),
    "leaf-endpoint_url-vpc-endpoint": (
        _role("a", "b", "region = eu-west-1\nendpoint_url = https://vpce-0abc-x.sts.eu-west-1.vpce.amazonaws.com\n")
        + _role("b", "user", "endpoint_url = https://ignored.example.test\n"),
        {},
    ),
    "services-section": (
        _role("a", "user", "region = eu-west-1\nservices = corp\n")
        + "[services corp]\nsts =\n  endpoint_url = https://sts.corp.example.test\n",
        {},
    ),
    "fips-on-an-intermediate": (
        _role("a", "b", "region = us-west-2\n") + _role("b", "user", "use_fips_endpoint = true\n"),
        {},
    ),
    "fips-and-dualstack-on-the-leaf": (
        _role("a", "b", "region = us-west-2\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n")
        + _role("b", "user"),
        {},
    ),
    "fips-without-a-region": (_role("a", "user", "use_fips_endpoint = true\n"), {}),
    "AWS_ENDPOINT_URL_STS": (
        _role("a", "b", "region = eu-west-1\n") + _role("b", "user"),
        {"AWS_ENDPOINT_URL_STS": "https://sts-proxy.example.test/sts"},
    ),
    "AWS_ENDPOINT_URL": (_role("a", "user", "region = sa-east-1\n"), {"AWS_ENDPOINT_URL": "https://aws.example.test"}),
    "web-identity-source-in-another-region": (
        _role("a", "w", "region = eu-west-1\n")
        + f"[profile w]\nrole_arn = {ROLE}/w\nweb_identity_token_file = TOKEN_FILE\nregion = ap-south-1\n",
        {},
    ),
    "credential_source-Environment-without-region": (
        f"[profile a]\nrole_arn = {ROLE}/a\ncredential_source = Environment\n",
        {"AWS_ACCESS_KEY_ID": "AKIDENVEXAMPLE", "AWS_SECRET_ACCESS_KEY": "FAKE-env-secret"},
    ),
    "user-guide-mfa-layout": (
        f"[profile admin]\nrole_arn = {ROLE}/admin\nsource_profile = user\nmfa_serial = {SERIAL}\n"
        "region = us-west-2\n",
        {},
    ),
    "user-guide-mfa-layout-chained": (
        _role("a", "admin", "region = eu-north-1\n")
        + f"[profile admin]\nrole_arn = {ROLE}/admin\nsource_profile = user\nmfa_serial = {SERIAL}\n"
        "region = us-west-2\n",
        {},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_call_goes_where_botocore_sends_it(
    case: str, aws_home, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, env = CASES[case]
    token_file = aws_home.root / "web-identity-token"
    token_file.write_text("FAKE-web-identity-token")
    aws_home.config.write_text(textwrap.dedent(config).replace("TOKEN_FILE", str(token_file)))
    aws_home.credentials.write_text(USER_KEYS)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    leaf = "admin" if case == "user-guide-mfa-layout" else "a"
    theirs = botocore_calls(leaf)
    ours = stsdash_calls(leaf, monkeypatch)
    assert theirs and all(region != "unsigned" for action, _, region in theirs if action == "AssumeRole")
    # The same calls, in the same order, to the same URL, signed for the same region...
    assert [c for c in ours if c[0] != "GetSessionToken"] == theirs
    # ...and stsdash's own GetSessionToken (the MFA session) goes to the same place.
    where = {(url, region) for _, url, region in theirs}
    assert all((url, region) in where for action, url, region in ours if action == "GetSessionToken")
    if case.startswith("user-guide"):
        assert [c[0] for c in ours].count("GetSessionToken") == 1


def test_AWS_REGION_wins_like_the_cli_v2(aws_home, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberate difference (README): botocore ignores AWS_REGION, the AWS CLI v2 and stsdash honour it.

    The reference is botocore given the same region through AWS_DEFAULT_REGION.
    """
    aws_home.config.write_text(_role("a", "user", "region = eu-west-1\n"))
    aws_home.credentials.write_text(USER_KEYS)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    theirs = botocore_calls("a")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    assert stsdash_calls("a", monkeypatch) == theirs == [
        ("AssumeRole", "https://sts.ap-southeast-2.amazonaws.com/", "ap-southeast-2")
    ]


def test_a_source_shared_by_two_refreshed_profiles_is_called_once(aws_home, monkeypatch) -> None:
    """The deliberate difference (README): one call for a shared source; its own settings if it is
    refreshed itself, else those of the first profile that needs it."""
    aws_home.config.write_text(
        _role("a", "b", "region = eu-west-1\n") + _role("c", "b", "region = sa-east-1\n")
        + _role("b", "user", "region = ap-south-1\n")
    )
    aws_home.credentials.write_text(USER_KEYS)
    calls = stsdash_calls(["a", "c"], monkeypatch)
    assert sorted(calls) == sorted([
        ("AssumeRole", "https://sts.eu-west-1.amazonaws.com/", "eu-west-1"),  # b, for a
        ("AssumeRole", "https://sts.eu-west-1.amazonaws.com/", "eu-west-1"),  # a
        ("AssumeRole", "https://sts.sa-east-1.amazonaws.com/", "sa-east-1"),  # c
    ])
    assert calls[0] == botocore_calls("a")[0]
    calls = stsdash_calls(["a", "b"], monkeypatch)
    assert sorted(calls) == sorted([
        ("AssumeRole", "https://sts.ap-south-1.amazonaws.com/", "ap-south-1"),  # b, its own settings
        ("AssumeRole", "https://sts.eu-west-1.amazonaws.com/", "eu-west-1"),  # a
    ])
