"""credential_source = Ec2InstanceMetadata / EcsContainer: source credentials fetched as botocore does.

The local fakes (tests/support/metadatafakes.py) are first shown to satisfy botocore's own fetchers;
then stsdash's clients must get the same credentials from them with the same requests (IMDSv2 token
first, the container Authorization header), and a refresh must sign its AssumeRole with them exactly
where botocore does.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stsdash.creds import Credentials
from stsdash.errors import ProviderError
from stsdash.providers.metadata import container_url, fetch_container_credentials, fetch_imds_credentials
from tests.support import metadatafakes, stsrecord
from tests.support.stsrecord import ROLE, botocore_calls, stsdash_calls


def _botocore_imds(url: str) -> dict[str, str]:
    from botocore.utils import InstanceMetadataFetcher

    fetcher = InstanceMetadataFetcher(timeout=2, num_attempts=1, base_url=url, env={})
    return fetcher.retrieve_iam_role_credentials()


def _botocore_container(url: str, token: str | None) -> dict[str, str]:
    from botocore.utils import ContainerMetadataFetcher

    headers = {"Authorization": token} if token else None
    return ContainerMetadataFetcher().retrieve_full_uri(url, headers=headers)


def _as_botocore(creds: Credentials) -> tuple[str, str, str | None]:
    return (creds.access_key_id, creds.secret_access_key, creds.session_token)


@pytest.mark.parametrize("v1_only", [False, True], ids=["imdsv2", "imdsv1-fallback"])
def test_imds_credentials_match_botocores_fetcher(v1_only: bool) -> None:
    with metadatafakes.imds(v1_only=v1_only) as fake:
        theirs = _botocore_imds(fake.url)
        botocore_requests = list(fake.requests)
        fake.requests.clear()
        ours = fetch_imds_credentials({"AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.url})
    assert theirs["access_key"] == "ASIAIMDSEXAMPLE"  # the fake satisfies botocore
    assert _as_botocore(ours) == (theirs["access_key"], theirs["secret_key"], theirs["token"])
    assert ours.expiration is not None and ours.expiration.year == 2099
    # The same requests in the same order: the token PUT, then the role and its credentials.
    def shape(reqs: list) -> list:
        return [(m, p, h.get("x-aws-ec2-metadata-token"), h.get("x-aws-ec2-metadata-token-ttl-seconds"))
                for m, p, h in reqs]
    assert shape(fake.requests) == shape(botocore_requests)
    assert fake.requests[0][0] == "PUT"
    if not v1_only:
        gets = [h for m, _, h in fake.requests if m == "GET"]
        assert gets and all(h.get("x-aws-ec2-metadata-token") == metadatafakes.TOKEN for h in gets)


def test_imds_endpoint_from_the_profile_and_v1_switched_off() -> None:
    with metadatafakes.imds(v1_only=True) as fake:
        ours = fetch_imds_credentials({}, {"ec2_metadata_service_endpoint": fake.url})
        assert ours.access_key_id == "ASIAIMDSEXAMPLE"
        with pytest.raises(ProviderError, match="IMDSv1 is turned off"):
            fetch_imds_credentials({"AWS_EC2_METADATA_V1_DISABLED": "true"},
                                   {"ec2_metadata_service_endpoint": fake.url})


def test_imds_disabled_or_absent_says_what_to_do() -> None:
    with pytest.raises(ProviderError, match="AWS_EC2_METADATA_DISABLED"):
        fetch_imds_credentials({"AWS_EC2_METADATA_DISABLED": "true"})
    with pytest.raises(ProviderError, match="did not answer") as info:  # nothing listens on port 9
        fetch_imds_credentials({"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/"})
    assert "instance profile" in (info.value.hint or "")


@pytest.mark.parametrize("via", ["token", "token-file", "no-token"])
def test_container_credentials_match_botocores_fetcher(via: str, tmp_path: Path) -> None:
    auth = None if via == "no-token" else metadatafakes.AUTH
    with metadatafakes.container(auth=auth) as fake:
        theirs = _botocore_container(fake.url, auth)
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url}
        if via == "token":
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = metadatafakes.AUTH
        elif via == "token-file":
            token_file = tmp_path / "token"
            token_file.write_text(metadatafakes.AUTH)
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = str(token_file)
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "the-file-wins"
        ours = fetch_container_credentials(env)
    assert theirs["AccessKeyId"] == "ASIATASKEXAMPLE"
    assert _as_botocore(ours) == (theirs["AccessKeyId"], theirs["SecretAccessKey"], theirs["Token"])
    assert fake.requests[-1][2].get("Authorization") == auth


def test_container_url_rules_follow_botocore() -> None:
    assert container_url({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"}) == (
        "http://169.254.170.2/v2/credentials/x"
    )
    assert container_url({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.test/x"})
    assert container_url({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[::1]:8080/x"})
    with pytest.raises(ProviderError, match="not allowed"):
        container_url({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://creds.example.test/x"})
    with pytest.raises(ProviderError, match="line break"):
        fetch_container_credentials({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/x",
                                     "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\nb"})


def test_container_denied_fails_with_a_clear_message() -> None:
    with metadatafakes.container() as fake, pytest.raises(ProviderError, match="HTTP 403"):
        fetch_container_credentials({"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url},
                                    sleep=lambda _s: None)
    assert len(fake.requests) == 3  # botocore's three attempts


@pytest.mark.parametrize("source", ["Ec2InstanceMetadata", "EcsContainer"])
def test_refresh_signs_the_assume_role_with_the_metadata_credentials_like_botocore(
    source: str, aws_home, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_home.config.write_text(textwrap.dedent(f"""\
        [profile a]
        role_arn = {ROLE}/a
        credential_source = {source}
        region = eu-west-1
        duration_seconds = 7200
        """))
    fake_server = metadatafakes.imds() if source == "Ec2InstanceMetadata" else metadatafakes.container()
    with fake_server as fake:
        if source == "Ec2InstanceMetadata":
            monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url)
            monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "false")
            monkeypatch.setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1")
        else:
            monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.url)
            monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", metadatafakes.AUTH)
        stsrecord.signed_with.clear()
        theirs = botocore_calls("a")
        botocore_keys = list(stsrecord.signed_with)
        stsrecord.signed_with.clear()
        ours = stsdash_calls("a", monkeypatch)
    assert ours == theirs == [("AssumeRole", "https://sts.eu-west-1.amazonaws.com/", "eu-west-1")]
    expected = fake.creds["AccessKeyId"]
    assert stsrecord.signed_with == [expected] and botocore_keys[0] == expected
