"""A throwaway AWS home: temp HOME, AWS files, SSO/CLI caches, stsdash settings and a keyring inside it.

The demo, the tests and the benchmarks all build their homes here, so none of them can read the user's
real files or reach for an instance-metadata address.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# Variables that would leak the user's own AWS setup into a throwaway home.
SCRUB_PREFIXES = ("AWS_", "STSDASH_", "PYTHON_KEYRING_BACKEND", "XDG_")
# A real, file-backed keyring inside the temp dir: never the user's OS keyring.
FILE_KEYRING = "keyrings.alt.file.PlaintextKeyring"


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
        base = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB_PREFIXES)}
        return {**base, **self.env, **extra}


def make_aws_home(root: Path, *, keyring_backend: str = FILE_KEYRING) -> AwsHome:
    home = root / "home"
    aws = home / ".aws"
    (aws / "sso" / "cache").mkdir(parents=True, exist_ok=True)
    (aws / "cli" / "cache").mkdir(parents=True, exist_ok=True)
    settings = root / "stsdash" / "config.toml"
    # The broker's prompt socket, locks and server status files: private to this home, so a test or the
    # demo never talks to the user's real dashboard (and stays short enough for a Unix socket path).
    (root / "run").mkdir(mode=0o700, exist_ok=True)
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
        "XDG_RUNTIME_DIR": str(root / "run"),
        "PYTHON_KEYRING_BACKEND": keyring_backend,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return AwsHome(root=root, home=home, config=aws / "config", credentials=aws / "credentials",
                   sso_cache=aws / "sso" / "cache", cli_cache=aws / "cli" / "cache", settings=settings,
                   env=env)
