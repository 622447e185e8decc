"""moto's server for the demo, the tests and the benchmarks: one way to start it, one way to seed it.

`MotoProcess` runs `python -m moto.server` in a child process on 127.0.0.1 (in-process, its request
handling would compete with the dashboard's event loop for the GIL, which a real STS endpoint never
does). `seed_moto` creates an IAM user and roles while moto's auth is still off; `enable_moto_auth`
then switches signature and policy checks on.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

LOOPBACK_ENV = {
    # moto's own boto clients must never reach for real credentials, metadata or a proxy.
    "AWS_ACCESS_KEY_ID": "AKIDFAKEEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "FAKE-EXAMPLE-SECRET",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


class MotoStartError(RuntimeError):
    """moto's server exited at start-up or did not answer in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoProcess:
    """moto's server in a child process on 127.0.0.1; `url` once started."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(LOOPBACK_ENV)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MotoStartError(f"moto's server exited at start-up (status {self.process.returncode})")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return self
            time.sleep(0.05)
        self.stop()
        raise MotoStartError(f"moto's server did not start within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> MotoProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


SEED_ACCOUNT = "123456789012"
_ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


@dataclass(frozen=True)
class MotoSeed:
    """What `seed_moto` created: one IAM user with keys, and roles by name."""

    account: str
    user_name: str
    user_arn: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    roles: dict[str, str] = field(default_factory=dict)  # name -> ARN

    def role_arn(self, name: str) -> str:
        return self.roles[name]


def _trust(principal: object, condition: dict | None = None) -> str:
    import json

    statement: dict = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def iam_call(moto_url: str, action: str, **params: str) -> bytes:
    import requests
    from requests_aws4auth import AWS4Auth

    from stsdash.providers.sts import encode_form

    body = encode_form([("Action", action), ("Version", "2010-05-08"), *params.items()])
    auth = AWS4Auth("AKIDSEEDEXAMPLE", "FAKE-SEED-SECRET", "us-east-1", "iam")
    with requests.Session() as session:
        session.trust_env = False  # loopback: never through the user's proxy
        response = session.post(
            moto_url.rstrip("/") + "/",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            auth=auth,
            timeout=30,
        )
    if response.status_code != 200:
        raise RuntimeError(f"seeding moto: IAM {action} failed with HTTP {response.status_code}")
    return response.content


def seed_moto(moto_url: str, *, user: str = "alice") -> MotoSeed:
    """Create a user (allow-all policy, one access key) and roles, while moto's auth is still off.

    Roles: `dev` (1 h max), `admin` (12 h max), `partner` (needs ExternalId `EXTID-TEST-1`),
    `locked` (trusts someone else: AssumeRole is denied), `chained` (trusts anyone, for role chains).
    """
    from stsdash.providers import stsxml

    account = SEED_ACCOUNT
    user_arn = f"arn:aws:iam::{account}:user/{user}"
    iam_call(moto_url, "CreateUser", UserName=user)
    iam_call(moto_url, "PutUserPolicy", UserName=user, PolicyName="all", PolicyDocument=_ALLOW_ALL)
    root = stsxml.parse_xml(iam_call(moto_url, "CreateAccessKey", UserName=user), what="CreateAccessKey")
    key = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
    specs = {
        "dev": (_trust([user_arn]), "3600"),
        "admin": (_trust([user_arn]), "43200"),
        "partner": (_trust([user_arn], {"StringEquals": {"sts:ExternalId": "EXTID-TEST-1"}}), "3600"),
        "locked": (_trust([f"arn:aws:iam::{account}:user/somebody-else"]), "3600"),
        "chained": (_trust("*"), "3600"),
    }
    roles = {}
    for name, (trust, max_duration) in specs.items():
        iam_call(
            moto_url,
            "CreateRole",
            RoleName=name,
            AssumeRolePolicyDocument=trust,
            MaxSessionDuration=max_duration,
        )
        iam_call(moto_url, "PutRolePolicy", RoleName=name, PolicyName="all", PolicyDocument=_ALLOW_ALL)
        roles[name] = f"arn:aws:iam::{account}:role/{name}"
    return MotoSeed(account, user, user_arn, key["AccessKeyId"], key["SecretAccessKey"], roles)


def enable_moto_auth(moto_url: str) -> None:
    """Switch moto's IAM authentication on from now on (signatures and policies are checked)."""
    import requests

    with requests.Session() as session:
        session.trust_env = False
        response = session.post(moto_url.rstrip("/") + "/moto-api/reset-auth", data=b"0", timeout=30)
    response.raise_for_status()
