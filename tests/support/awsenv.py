"""A throwaway AWS home for every test: temp HOME, config and credentials files, keyring and stsdash settings.

Anything that runs botocore, boto3 or the AWS CLI in a test must get its environment from here, so it
never reads the user's real files or reaches for an instance-metadata address.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import keyring.core
import pytest

from stsdash_demo.home import SCRUB_PREFIXES, AwsHome, make_aws_home

__all__ = ["AwsHome", "assert_resolves", "aws_home", "make_aws_home", "resolved_credentials"]

if TYPE_CHECKING:
    from stsdash.creds import Credentials

@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsHome]:
    """A clean AWS home, with this process's environment pointed at it."""
    for key in list(os.environ):
        if key.startswith(SCRUB_PREFIXES):
            monkeypatch.delenv(key, raising=False)
    aws = make_aws_home(tmp_path)
    for key, value in aws.env.items():
        monkeypatch.setenv(key, value)
    previous = keyring.get_keyring()
    keyring.core.init_backend()  # keyring chooses its backend once per process: re-read the environment
    try:
        yield aws
    finally:
        keyring.set_keyring(previous)


def botocore_session(profile: str):
    """A botocore session for `profile`, reading only the files the current environment points at."""
    import botocore.session

    return botocore.session.Session(profile=profile)


def resolved_credentials(profile: str):
    """What botocore resolves for `profile` (frozen), or None. This is the reference reader."""
    creds = botocore_session(profile).get_credentials()
    return None if creds is None else creds.get_frozen_credentials()


def assert_resolves(profile: str, creds: Credentials):
    """botocore resolves `profile` to exactly `creds`; returns what it resolved (frozen)."""
    got = resolved_credentials(profile)
    assert got is not None
    assert (got.access_key, got.secret_key, got.token) == (
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token,
    )
    return got
