"""Source credentials from the EC2 instance metadata service and the ECS/EKS container endpoint.

The clients behave like botocore's InstanceMetadataFetcher and ContainerMetadataFetcher (the
sources of `credential_source = Ec2InstanceMetadata` and `EcsContainer`):

* IMDS: PUT `latest/api/token` (TTL 21600) for an IMDSv2 token; a 403/404/405 or a timeout there
  falls back to IMDSv1 unless `ec2_metadata_v1_disabled`. Then GET
  `latest/meta-data/iam/security-credentials/` for the role name and that path + role for the
  JSON credentials, with the token header. The base URL is AWS_EC2_METADATA_SERVICE_ENDPOINT or the
  profile's `ec2_metadata_service_endpoint`, else 169.254.169.254 (or [fd00:ec2::254] in `ipv6`
  endpoint mode). AWS_EC2_METADATA_DISABLED=true turns it off. Timeout and attempts follow
  AWS_METADATA_SERVICE_TIMEOUT (1 s) / AWS_METADATA_SERVICE_NUM_ATTEMPTS (1).
* Container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on http://169.254.170.2, else
  AWS_CONTAINER_CREDENTIALS_FULL_URI (https anywhere; http only to a loopback address or the ECS/EKS
  hosts), with `Authorization` from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every call) or
  AWS_CONTAINER_AUTHORIZATION_TOKEN. 2 s timeout, 3 attempts one second apart.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from stsdash.creds import Credentials
from stsdash.errors import ProviderError
from stsdash.timeutil import parse_timestamp

IMDS_BASE = "http://169.254.169.254/"
IMDS_BASE_IPV6 = "http://[fd00:ec2::254]/"
IMDS_TOKEN_PATH = "latest/api/token"
IMDS_TOKEN_TTL = "21600"
IMDS_ROLE_PATH = "latest/meta-data/iam/security-credentials/"
CONTAINER_HOST = "169.254.170.2"
CONTAINER_ALLOWED_HOSTS = (CONTAINER_HOST, "169.254.170.23", "fd00:ec2::23", "localhost")
CONTAINER_TIMEOUT = 2.0
CONTAINER_ATTEMPTS = 3
_TRUE = "true"


def _fail(source: str, message: str, hint: str) -> ProviderError:
    return ProviderError(f"credential_source = {source}: {message}", code=source, hint=hint)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError:
        return default
    return value if value >= 0 else default


def imds_base_url(env: Mapping[str, str], config: Mapping[str, Any]) -> str:
    """The IMDS base URL, as botocore picks it (custom endpoint > ipv6 mode > the IPv4 address)."""
    custom = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or config.get("ec2_metadata_service_endpoint")
    mode = (env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")
            or config.get("ec2_metadata_service_endpoint_mode"))
    base = str(custom) if custom else IMDS_BASE_IPV6 if str(mode or "").lower() == "ipv6" else IMDS_BASE
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(
            "Ec2InstanceMetadata",
            f"the instance metadata endpoint {base!r} is not an http(s) URL",
            "Fix AWS_EC2_METADATA_SERVICE_ENDPOINT or ec2_metadata_service_endpoint.",
        )
    return base if base.endswith("/") else base + "/"


def fetch_imds_credentials(
    env: Mapping[str, str],
    config: Mapping[str, Any] | None = None,
    *,
    session: requests.Session | None = None,
) -> Credentials:
    """The instance role's credentials from IMDS (v2 token first, v1 only where botocore falls back)."""
    source = "Ec2InstanceMetadata"
    config = config or {}
    if (env.get("AWS_EC2_METADATA_DISABLED") or "").lower() == _TRUE:
        raise _fail(source, "instance metadata is turned off (AWS_EC2_METADATA_DISABLED=true)",
                    "Unset AWS_EC2_METADATA_DISABLED to use the instance's role.")
    base = imds_base_url(env, config)
    timeout = _number(env, "AWS_METADATA_SERVICE_TIMEOUT", 1.0)
    timeout = timeout or 1.0
    attempts = int(_number(env, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1))
    if attempts < 1:  # botocore then never asks, and finds nothing
        raise _fail(source, "AWS_METADATA_SERVICE_NUM_ATTEMPTS is 0, so the instance metadata service "
                    "is not asked", "Set it to 1 or more (or unset it).")
    v1_setting = env.get("AWS_EC2_METADATA_V1_DISABLED") or config.get("ec2_metadata_v1_disabled")
    v1_disabled = str(v1_setting or "").lower() == _TRUE
    http = session or requests.Session()
    hint = ("Run this on an EC2 instance with an instance profile, or point "
            "AWS_EC2_METADATA_SERVICE_ENDPOINT at the metadata service.")
    try:
        token = _imds_token(http, base + IMDS_TOKEN_PATH, timeout, attempts)
        if token is None and v1_disabled:
            raise _fail(source, f"no IMDSv2 token from {base} and IMDSv1 is turned off "
                        "(ec2_metadata_v1_disabled)", hint)
        headers = {"x-aws-ec2-metadata-token": token} if token else {}

        def ok(response: requests.Response) -> bool:
            return response.status_code == 200 and bool(response.content)

        role = _get(http, base + IMDS_ROLE_PATH, headers, timeout, attempts, ok).text.strip().splitlines()
        if not role:
            raise _fail(source, f"{base} names no instance role", hint)

        def ok_json(response: requests.Response) -> bool:
            return ok(response) and _is_json(response.text)

        body = _get(http, base + IMDS_ROLE_PATH + role[0], headers, timeout, attempts, ok_json).text
    except requests.RequestException as exc:
        raise _fail(source, f"the instance metadata service at {base} did not answer ({type(exc).__name__})",
                    hint) from None
    finally:
        if session is None:
            http.close()
    data = json.loads(body)
    if not isinstance(data, dict) or not all(data.get(k) for k in ("AccessKeyId", "SecretAccessKey", "Token",
                                                                     "Expiration")):
        code = data.get("Code") if isinstance(data, dict) else None
        raise _fail(source, f"{base} gave no credentials for role {role[0]}" + (f" ({code})" if code else ""),
                    "Check the instance profile's role and its trust policy (ec2.amazonaws.com).")
    return _credentials(source, data)


def _imds_token(http: requests.Session, url: str, timeout: float, attempts: int) -> str | None:
    """The IMDSv2 token, or None where botocore falls back to IMDSv1 (403/404/405, read timeout)."""
    for _ in range(attempts):
        try:
            response = http.put(url, headers={"x-aws-ec2-metadata-token-ttl-seconds": IMDS_TOKEN_TTL},
                                timeout=timeout, allow_redirects=False)
        except requests.ReadTimeout:
            return None
        except requests.ConnectionError:
            continue
        if response.status_code == 200:
            return response.text
        if response.status_code in (403, 404, 405):
            return None
        if response.status_code == 400:
            raise _fail("Ec2InstanceMetadata", f"{url} refused the token request (HTTP 400)",
                        "Check AWS_EC2_METADATA_SERVICE_ENDPOINT.")
    return None


def _get(
    http: requests.Session, url: str, headers: Mapping[str, str], timeout: float, attempts: int,
    ok: Callable[[requests.Response], bool],
) -> requests.Response:
    last: requests.Response | None = None
    for attempt in range(attempts):
        try:
            last = http.get(url, headers=dict(headers), timeout=timeout, allow_redirects=False)
        except requests.ConnectionError:
            if attempt + 1 == attempts:
                raise
            continue
        if ok(last):
            return last
    status = f"HTTP {last.status_code}" if last is not None else "no answer"
    raise _fail("Ec2InstanceMetadata", f"{url} gave no usable answer ({status})",
                "Check that the instance has an instance profile with a role.")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def container_url(env: Mapping[str, str]) -> str:
    """The container credentials URL: the relative URI on 169.254.170.2, else the full URI (checked)."""
    source = "EcsContainer"
    relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    if relative:
        return f"http://{CONTAINER_HOST}{relative}"
    full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if not full:
        raise _fail(source, "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
                    "Run this in an ECS task or EKS pod with a task role, or set one of them.")
    parts = urlsplit(full)
    if parts.scheme == "https" or _allowed_container_host(parts.hostname):
        return full
    raise _fail(source, f"AWS_CONTAINER_CREDENTIALS_FULL_URI host {parts.hostname!r} is not allowed",
                "Over http only a loopback address or " + ", ".join(CONTAINER_ALLOWED_HOSTS)
                + " may serve credentials (as botocore); use https otherwise.")


def _allowed_container_host(host: str | None) -> bool:
    if not host:
        return False
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    return host in CONTAINER_ALLOWED_HOSTS


def _container_token(env: Mapping[str, str]) -> str | None:
    path = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                token: str | None = handle.read()
        except OSError as exc:
            raise _fail("EcsContainer", f"cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path}: "
                        f"{exc.strerror or exc}", "Check the path and its permissions.") from None
    else:
        token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if token is not None and ("\r" in token or "\n" in token):
        raise _fail("EcsContainer", "the container authorization token holds a line break",
                    "botocore refuses it too: write the token without a trailing newline.")
    return token


def fetch_container_credentials(
    env: Mapping[str, str], *, session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Credentials:
    """The task or pod role's credentials from the container credentials endpoint."""
    source = "EcsContainer"
    url = container_url(env)
    headers = {"Accept": "application/json"}
    token = _container_token(env)
    if token is not None:
        headers["Authorization"] = token
    http = session or requests.Session()
    problem = ""
    try:
        for attempt in range(CONTAINER_ATTEMPTS):
            if attempt:
                sleep(1.0)
            try:
                response = http.get(url, headers=headers, timeout=CONTAINER_TIMEOUT, allow_redirects=False)
            except requests.RequestException as exc:
                problem = f"no answer ({type(exc).__name__})"
                continue
            if response.status_code != 200:
                problem = f"HTTP {response.status_code}"
                continue
            try:
                data = json.loads(response.content.decode("utf-8"))
            except ValueError:
                problem = "an answer that is not JSON"
                continue
            if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) and data.get(k) for k in ("AccessKeyId", "SecretAccessKey")
            ):
                raise _fail(source, f"{_public(url)} gave no credentials", "Check the task or pod role.")
            return _credentials(source, data)
    finally:
        if session is None:
            http.close()
    raise _fail(source, f"the container credentials endpoint {_public(url)} gave {problem}",
                "Check AWS_CONTAINER_CREDENTIALS_* and AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE).")


def _public(url: str) -> str:
    """The URL without its query (a relative URI may carry an id)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _credentials(source: str, data: Mapping[str, Any]) -> Credentials:
    expiration = None
    raw = data.get("Expiration")
    if isinstance(raw, str) and raw:
        try:
            expiration, _ = parse_timestamp(raw)
        except ValueError:
            raise _fail(source, f"the credentials' Expiration {raw!r} is not a time",
                        "The metadata service answered something unexpected.") from None
    token = data.get("Token")
    return Credentials(str(data["AccessKeyId"]), str(data["SecretAccessKey"]),
                       str(token) if token else None, expiration)


__all__ = ["container_url", "fetch_container_credentials", "fetch_imds_credentials", "imds_base_url"]
