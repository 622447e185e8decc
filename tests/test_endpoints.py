"""STS endpoint resolution (CLI v2 rules), cross-checked against botocore's resolver."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pytest

from stsdash.errors import ProviderError
from stsdash.providers.endpoints import resolve_sts_endpoint, sts_client_for
from stsdash.providers.http import resolve_verify

REGIONS = [
    "us-east-1",
    "eu-west-1",
    "ap-southeast-5",
    "cn-north-1",
    "us-gov-west-1",
    "us-gov-east-1",
    "eusc-de-east-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
    "us-isof-south-1",
]
ISO = ("us-iso", "us-isob", "eu-isoe", "us-isof")


@functools.cache
def _session():
    import botocore.session

    return botocore.session.Session()


def _botocore(region: str, fips: bool, dualstack: bool) -> tuple[str, str]:
    from botocore.config import Config

    client = _session().create_client(
        "sts",
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="FAKE-EXAMPLE",
        config=Config(use_fips_endpoint=fips, use_dualstack_endpoint=dualstack),
    )
    return client.meta.endpoint_url, client._request_signer._region_name


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("fips", [False, True])
@pytest.mark.parametrize("dualstack", [False, True])
def test_matches_botocore(region: str, fips: bool, dualstack: bool) -> None:
    if dualstack and region.startswith(ISO):
        with pytest.raises(ProviderError, match="dual-stack"):
            resolve_sts_endpoint(region=region, use_fips=fips, use_dualstack=dualstack)
        return
    ours = resolve_sts_endpoint(region=region, use_fips=fips, use_dualstack=dualstack)
    assert (ours.url, ours.signing_region) == _botocore(region, fips, dualstack)


def test_reference_hosts() -> None:
    assert resolve_sts_endpoint(region="eu-west-1").url == "https://sts.eu-west-1.amazonaws.com"
    assert (
        resolve_sts_endpoint(region="us-east-1", use_fips=True).url
        == "https://sts-fips.us-east-1.amazonaws.com"
    )
    assert (
        resolve_sts_endpoint(region="us-gov-west-1", use_fips=True).url
        == "https://sts.us-gov-west-1.amazonaws.com"
    )
    assert resolve_sts_endpoint(region="eu-west-1", use_dualstack=True).url == "https://sts.eu-west-1.api.aws"
    assert resolve_sts_endpoint(region="cn-north-1").url == "https://sts.cn-north-1.amazonaws.com.cn"
    assert resolve_sts_endpoint(region="us-iso-east-1").url == "https://sts.us-iso-east-1.c2s.ic.gov"


def test_no_region_is_the_global_endpoint_like_botocore() -> None:
    """botocore with no region anywhere signs for us-east-1 at sts.amazonaws.com (aws-global)."""
    got = resolve_sts_endpoint(region=None, profile="dev")
    assert (got.url, got.signing_region) == ("https://sts.amazonaws.com", "us-east-1")
    assert resolve_sts_endpoint(region=None, use_fips=True).url == "https://sts-fips.aws-global.amazonaws.com"
    # A configured endpoint needs a region to sign for: botocore says "You must specify a region".
    with pytest.raises(ProviderError) as info:
        resolve_sts_endpoint(region=None, profile_endpoint_url="https://vpce.example.test", profile="dev")
    assert info.value.code == "NoRegion" and "profile dev" in str(info.value)
    assert "AWS_REGION" in (info.value.hint or "")
    with pytest.raises(ProviderError, match="not a valid region"):
        resolve_sts_endpoint(region="eu-west-1.evil.example/")


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-east-1", "us-gov-west-1", "aws-global"])
@pytest.mark.parametrize("mode", ["legacy", "regional"])
@pytest.mark.parametrize("fips", [False, True])
def test_sts_regional_endpoints_matches_botocore(region: str, mode: str, fips: bool) -> None:
    import botocore.session

    session = botocore.session.Session()
    session.set_config_variable("sts_regional_endpoints", mode)
    from botocore.config import Config

    client = session.create_client(
        "sts", region_name=region, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="FAKE-EXAMPLE",
        config=Config(use_fips_endpoint=fips),
    )
    ours = resolve_sts_endpoint(region=region, regional_endpoints=mode, use_fips=fips)
    assert (ours.url, ours.signing_region) == (client.meta.endpoint_url, client._request_signer._region_name)
    env = resolve_sts_endpoint(region=region, env={"AWS_STS_REGIONAL_ENDPOINTS": mode}, use_fips=fips)
    assert env == ours


def test_bad_sts_regional_endpoints_is_refused() -> None:
    with pytest.raises(ProviderError, match="sts_regional_endpoints = bogus") as info:
        resolve_sts_endpoint(region="eu-west-1", regional_endpoints="bogus", profile="dev")
    assert "profile dev" in str(info.value) and "legacy" in (info.value.hint or "")


def test_configured_endpoint_precedence() -> None:
    env = {"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:1", "AWS_ENDPOINT_URL": "http://127.0.0.1:2"}
    args = {"services_endpoint_url": "http://127.0.0.1:3", "profile_endpoint_url": "http://127.0.0.1:4"}
    got = resolve_sts_endpoint(region="eu-west-1", env=env, **args)
    assert (got.url, got.signing_region, got.source) == (
        "http://127.0.0.1:1",
        "eu-west-1",
        "AWS_ENDPOINT_URL_STS",
    )
    del env["AWS_ENDPOINT_URL_STS"]
    assert resolve_sts_endpoint(region="eu-west-1", env=env, **args).url.endswith(":2")
    assert resolve_sts_endpoint(region="eu-west-1", env={}, **args).url.endswith(":3")
    assert resolve_sts_endpoint(region="eu-west-1", profile_endpoint_url="http://127.0.0.1:4").url.endswith(
        ":4"
    )


def test_ignore_configured_endpoints() -> None:
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    got = resolve_sts_endpoint(region="eu-west-1", env=env, profile_endpoint_url="http://127.0.0.1:4")
    assert got.url == "https://sts.eu-west-1.amazonaws.com"
    got = resolve_sts_endpoint(region="eu-west-1", profile_endpoint_url="http://x:4", ignore_configured=True)
    assert got.url == "https://sts.eu-west-1.amazonaws.com"
    # the environment variable overrides the profile setting both ways
    env = {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"}
    got = resolve_sts_endpoint(
        region="eu-west-1", env=env, profile_endpoint_url="http://x:4", ignore_configured=True
    )
    assert got.url == "http://x:4"


def test_fips_and_dualstack_from_environment() -> None:
    env = {"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "TRUE"}
    assert resolve_sts_endpoint(region="eu-west-1", env=env).url == "https://sts-fips.eu-west-1.api.aws"
    assert resolve_sts_endpoint(
        region="eu-west-1", env={"AWS_USE_FIPS_ENDPOINT": "false"}, use_fips=True
    ).url == ("https://sts.eu-west-1.amazonaws.com")


def test_bad_endpoint_url() -> None:
    with pytest.raises(ProviderError, match="AWS_ENDPOINT_URL_STS"):
        resolve_sts_endpoint(region="eu-west-1", env={"AWS_ENDPOINT_URL_STS": "sts.example"})


# -- sts_client_for with stand-ins shaped like profiles.Profile / ProfileSet ----------------------------


@dataclass
class FakeProfile:
    name: str = "dev"
    region: str | None = "eu-west-1"
    endpoint_url: str | None = None
    ca_bundle: str | None = None
    services: str | None = None
    use_fips_endpoint: str | None = None


@dataclass
class FakeProfileSet:
    services: dict[str, dict] = field(default_factory=dict)


def test_sts_client_for_region_order() -> None:
    profile, profiles = FakeProfile(), FakeProfileSet()
    assert sts_client_for(profile, profiles, env={}).endpoint_url == "https://sts.eu-west-1.amazonaws.com/"
    env = {"AWS_DEFAULT_REGION": "eu-central-1"}
    client = sts_client_for(profile, profiles, env=env)
    assert (client.endpoint_url, client.signing_region) == (
        "https://sts.eu-central-1.amazonaws.com/",
        "eu-central-1",
    )
    env["AWS_REGION"] = "ap-south-1"
    assert sts_client_for(profile, profiles, env=env).signing_region == "ap-south-1"
    client = sts_client_for(FakeProfile(region=None), profiles, env={})
    assert (client.endpoint_url, client.signing_region) == ("https://sts.amazonaws.com/", "us-east-1")
    with pytest.raises(ProviderError, match="no region"):
        sts_client_for(FakeProfile(region=None, endpoint_url="https://vpce.example.test"), profiles, env={})


def test_sts_client_for_services_section_and_ca_bundle() -> None:
    profiles = FakeProfileSet(services={"local": {"sts": {"endpoint_url": "http://127.0.0.1:5000"}}})
    profile = FakeProfile(services="local", endpoint_url="http://127.0.0.1:6000", ca_bundle="/etc/ca.pem")
    client = sts_client_for(profile, profiles, env={})
    assert client.endpoint_url == "http://127.0.0.1:5000/" and client.signing_region == "eu-west-1"
    assert client.verify == "/etc/ca.pem" and client.profile == "dev"
    client = sts_client_for(profile, profiles, env={"AWS_CA_BUNDLE": "/opt/corp.pem"})
    assert client.verify == "/opt/corp.pem"
    assert sts_client_for(FakeProfile(use_fips_endpoint="true"), profiles, env={}).endpoint_url == (
        "https://sts-fips.eu-west-1.amazonaws.com/"
    )


def test_resolve_verify() -> None:
    assert resolve_verify(None, {}) is True
    assert resolve_verify("/a.pem", {}) == "/a.pem"
    assert resolve_verify("/a.pem", {"AWS_CA_BUNDLE": "/b.pem"}) == "/b.pem"
    assert resolve_verify("~/ca.pem", {}).endswith("/ca.pem") and "~" not in resolve_verify("~/ca.pem", {})


def test_verify_is_passed_on_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from stsdash.creds import Credentials

    client = sts_client_for(FakeProfile(ca_bundle="/etc/corp-ca.pem"), FakeProfileSet(), env={})
    seen: dict = {}

    class Stop(Exception):
        pass

    def post(url: str, **kwargs: object) -> None:
        seen.update(kwargs, url=url)
        raise Stop

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/should/not/win.pem")
    monkeypatch.setattr(client.session, "post", post)
    with pytest.raises(Stop):
        client.get_caller_identity(Credentials("AKIDEXAMPLE", "FAKE"))
    assert seen["verify"] == "/etc/corp-ca.pem" and seen["allow_redirects"] is False


def test_with_loaded_profiles(aws_home) -> None:
    profiles_module = pytest.importorskip("stsdash.profiles")
    aws_home.write_config(
        "[profile dev]\nregion = eu-west-1\nservices = local\nca_bundle = /etc/ca.pem\n\n"
        "[services local]\nsts =\n  endpoint_url = http://127.0.0.1:5000\n"
    )
    loaded = profiles_module.load_profiles()
    client = sts_client_for(loaded.profiles["dev"], loaded, env={})
    assert (client.endpoint_url, client.signing_region, client.verify) == (
        "http://127.0.0.1:5000/",
        "eu-west-1",
        "/etc/ca.pem",
    )
