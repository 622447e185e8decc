"""GetFederationToken and GetAccessKeyInfo against moto (auth on), DecodeAuthorizationMessage against a
local SigV4-checking STS (moto 5 does not implement that operation)."""

from __future__ import annotations

import json

import pytest

from stsdash.creds import Credentials
from stsdash.errors import ProviderError
from stsdash.providers.sts import StsClient
from tests.fakests import KEY_ID, SECRET, fake_sts  # noqa: F401  (fixture)

ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


def test_get_federation_token_through_moto(sts_client, user_creds, sts_proxy) -> None:
    result = sts_client.get_federation_token(user_creds, name="stsdash-alice", duration_seconds=3600,
                                             policy=ALLOW_ALL)
    assert result.credentials.session_token and result.credentials.expiration is not None
    assert result.identity is not None
    assert result.identity.arn.endswith(":federated-user/stsdash-alice")
    assert result.identity.account == "123456789012"
    sent = sts_proxy.params_of("GetFederationToken")[0]
    assert (sent["Name"], sent["Policy"], sent["DurationSeconds"]) == ("stsdash-alice", ALLOW_ALL, "3600")


def test_get_federation_token_refuses_temporary_keys_and_bad_names(sts_client, sts_proxy) -> None:
    temp = Credentials("ASIAFAKEEXAMPLE", "FAKE", "FAKE-TOKEN")
    with pytest.raises(ProviderError, match="needs long-term keys"):
        sts_client.get_federation_token(temp, name="ok-name")
    with pytest.raises(ProviderError, match="federated user name"):
        sts_client.get_federation_token(Credentials("AKIAFAKEEXAMPLE", "FAKE"), name="x" * 33)
    assert sum(sts_proxy.calls.values()) == 0


def test_get_access_key_info_through_moto(sts_client, user_creds) -> None:
    assert sts_client.get_access_key_info(user_creds, user_creds.access_key_id) == "123456789012"
    with pytest.raises(ProviderError, match="not an access key id"):
        sts_client.get_access_key_info(user_creds, "akia-lowercase")


DECODED = {
    "allowed": False,
    "explicitDeny": False,
    "matchedStatements": {"items": []},
    "failures": {"items": []},
    "context": {
        "principal": {"id": "AROAFAKE:alice", "arn": "arn:aws:sts::123456789012:assumed-role/dev/alice"},
        "action": "ec2:RunInstances",
        "resource": "arn:aws:ec2:us-east-1:123456789012:instance/*",
        "conditions": {
            "items": [{"key": "ec2:InstanceType", "values": {"items": [{"value": "p5.48xlarge"}]}}]
        },
    },
}


def test_decode_authorization_message_signed_like_botocore(fake_sts) -> None:  # noqa: F811
    fake_sts.decoded = json.dumps(DECODED)
    client = StsClient(endpoint_url=fake_sts.url, signing_region="us-east-1", profile="dev")
    decoded = client.decode_authorization_message(Credentials(KEY_ID, SECRET), "  ENCODED-FAKE-MESSAGE\n")
    assert json.loads(decoded) == DECODED
    assert fake_sts.calls[-1]["EncodedMessage"] == "ENCODED-FAKE-MESSAGE"
    # the same server accepts botocore's own request, and refuses a wrong secret: its check is real
    import boto3

    sts = boto3.client("sts", endpoint_url=fake_sts.url, region_name="us-east-1",
                       aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    assert json.loads(sts.decode_authorization_message(EncodedMessage="X")["DecodedMessage"]) == DECODED
    wrong = StsClient(endpoint_url=fake_sts.url, signing_region="us-east-1", profile="dev")
    with pytest.raises(ProviderError, match="SignatureDoesNotMatch"):
        wrong.decode_authorization_message(Credentials(KEY_ID, "FAKE-wrong-secret"), "X")
    with pytest.raises(ProviderError, match="InvalidAuthorizationMessageException"):
        client.decode_authorization_message(Credentials(KEY_ID, SECRET), "NOT-A-MESSAGE")
