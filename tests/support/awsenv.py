"""A throwaway AWS home for every test: temp HOME, config and credentials files, keyring and stsdash settings.

Anything that runs botocore, boto3 or the AWS CLI in a test must get its environment from here, so it
never reads the user's real files or reaches for an instance-metadata address.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from stsdash.creds import Credentials

# Variables that would leak the developer's own AWS setup into a test.
_SCRUB_PREFIXES = ("AWS_", "STSDASH_", "PYTHON_KEYRING_BACKEND", "XDG_")


@dataclass
class AwsHome:
    root: Path
    home: Path
    config: Path
    credentials: Path
    sso_cache: Path
    cli_cache: Path
    settings: Path
    env: dict[str, str] = field(default_factory=dict)

    def write_config(self, text: str) -> Path:
        self.config.write_text(text)
        return self.config

    def write_credentials(self, text: str) -> Path:
        self.credentials.write_text(text)
        os.chmod(self.credentials, 0o600)
        return self.credentials

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        """The full environment for a child process (stsdash, botocore, the AWS CLI)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES)}
        return {**base, **self.env, **extra}


def make_aws_home(root: Path) -> AwsHome:
    home = root / "home"
    aws = home / ".aws"
    (aws / "sso" / "cache").mkdir(parents=True)
    (aws / "cli" / "cache").mkdir(parents=True)
    settings = root / "stsdash" / "config.toml"
    env = {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "0",
        "STSDASH_CONFIG": str(settings),
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "XDG_DATA_HOME": str(root / "xdg-data"),
        "XDG_CACHE_HOME": str(root / "xdg-cache"),
        # A real, file-backed keyring inside the temp dir: never the developer's OS keyring.
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return AwsHome(
        root=root,
        home=home,
        config=aws / "config",
        credentials=aws / "credentials",
        sso_cache=aws / "sso" / "cache",
        cli_cache=aws / "cli" / "cache",
        settings=settings,
        env=env,
    )


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsHome:
    """A clean AWS home, with this process's environment pointed at it."""
    for key in list(os.environ):
        if key.startswith(_SCRUB_PREFIXES):
            monkeypatch.delenv(key, raising=False)
    aws = make_aws_home(tmp_path)
    for key, value in aws.env.items():
        monkeypatch.setenv(key, value)
    try:  # keyring caches its backend choice per process; make it re-read the environment
        import keyring.core

        monkeypatch.setattr(keyring.core, "_keyring_backend", None, raising=False)
    except ImportError:  # pragma: no cover
        pass
    return aws


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
