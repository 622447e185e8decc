"""credential_process: run the command the way botocore does (shlex, no shell) and validate its JSON.

stdout carries secrets, so it is never echoed in an error; only its shape is described. stderr is
the process's own diagnostic channel and is shown (truncated).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Mapping

from stsdash.creds import Credentials
from stsdash.errors import ProviderError
from stsdash.terminal import printable
from stsdash.timeutil import parse_timestamp

MAX_STDERR = 2000
MAX_STDOUT = 1 << 20


def _fail(profile: str, message: str, hint: str | None = None) -> ProviderError:
    return ProviderError(message, profile=profile, code="CredentialProcess", hint=hint)


def run_credential_process(
    command: str,
    *,
    profile: str,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> Credentials:
    """Run `command` and return its credentials; ProviderError with a precise reason otherwise."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise _fail(profile, f"credential_process cannot be parsed: {exc}", "Check its quoting.") from None
    if not argv:
        raise _fail(profile, "credential_process is empty")
    try:
        completed = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            env=None if env is None else dict(env),
            cwd=cwd,
            shell=False,
        )
    except FileNotFoundError:
        raise _fail(
            profile,
            f"credential_process program {printable(argv[0])!r} not found",
            "Use an absolute path or put the program on PATH; it is run without a shell.",
        ) from None
    except PermissionError:
        raise _fail(profile, f"credential_process program {printable(argv[0])!r} is not executable") from None
    except subprocess.TimeoutExpired:
        raise _fail(
            profile,
            f"credential_process did not finish within {timeout:g} s",
            "Make the command non-interactive (it gets no terminal input).",
        ) from None
    except OSError as exc:
        raise _fail(profile, f"credential_process could not start: {exc.strerror or exc}") from None
    if completed.returncode != 0:
        stderr = printable(completed.stderr.decode("utf-8", "replace").strip())
        if len(stderr) > MAX_STDERR:
            stderr = stderr[:MAX_STDERR] + "…"
        detail = f": {stderr}" if stderr else " (no stderr)"
        raise _fail(profile, f"credential_process exited with status {completed.returncode}{detail}")
    return parse_process_output(completed.stdout, profile=profile)


def parse_process_output(stdout: bytes, *, profile: str) -> Credentials:
    """Validate Version 1 JSON: Version 1, both keys; SessionToken optional, Expiration zoned if present."""
    text = stdout.decode("utf-8", "replace").strip()
    if not text:
        raise _fail(profile, "credential_process printed nothing on stdout", "It must print one JSON object.")
    if len(text) > MAX_STDOUT:
        raise _fail(profile, f"credential_process printed more than {MAX_STDOUT} characters on stdout")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(
            profile,
            f"credential_process output is not JSON (error at line {exc.lineno}, column {exc.colno})",
            "It must print exactly one JSON object on stdout; log to stderr instead.",
        ) from None
    except RecursionError:
        raise _fail(profile, "credential_process output is JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise _fail(profile, f"credential_process output is a JSON {type(data).__name__}, not an object")
    version = data.get("Version")
    if version != 1 or isinstance(version, bool):
        raise _fail(
            profile,
            f"credential_process output has Version {version!r}; only the integer 1 is supported",
        )
    for key in ("AccessKeyId", "SecretAccessKey"):
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise _fail(profile, f"credential_process output lacks {key} (or it is not a string)")
    token = data.get("SessionToken")
    if token is not None and not isinstance(token, str):
        raise _fail(profile, "credential_process output has a SessionToken that is not a string")
    expiration = None
    raw_exp = data.get("Expiration")
    if raw_exp is not None:
        if not isinstance(raw_exp, str):
            raise _fail(profile, "credential_process output has an Expiration that is not a string")
        try:
            expiration, zone_missing = parse_timestamp(raw_exp)
        except ValueError:
            raise _fail(
                profile, f"credential_process Expiration {raw_exp!r} is not an ISO 8601 time"
            ) from None
        if zone_missing:
            raise _fail(
                profile,
                f"credential_process Expiration {raw_exp!r} has no timezone",
                "Write it in UTC with a zone, e.g. 2030-01-01T00:00:00Z (botocore rejects it too).",
            )
    creds = Credentials(
        access_key_id=data["AccessKeyId"],
        secret_access_key=data["SecretAccessKey"],
        session_token=token or None,
        expiration=expiration,
    )
    problem = creds.problem()
    if problem:
        raise _fail(
            profile,
            f"credential_process output is unusable: {problem}",
            "Fix the program: it must print current credentials, each value on one line of JSON.",
        )
    return creds


__all__ = ["parse_process_output", "run_credential_process"]
