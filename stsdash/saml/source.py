"""Where a SAML assertion comes from: a `saml_process` command, or text the user pasted.

`saml_process` is run like botocore runs credential_process: split with shlex, no shell, no stdin. It
prints the base64 SAMLResponse on stdout (it may open a browser to sign in; it cannot ask questions
on the terminal). stdout is a credential and never appears in a message; stderr is the command's own
diagnostics and is shown, shortened.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping

from stsdash.errors import StsdashError
from stsdash.saml.assertion import SamlAssertion, decode_assertion

SAML_PROCESS_TIMEOUT = 120.0  # s: signing in through a browser takes a while, a hang does not
MAX_STDERR = 500
MAX_STDOUT = 1 << 20


class SamlProcessError(StsdashError):
    """saml_process did not run, failed, or printed nothing usable."""


def run_saml_process(
    command: str,
    *,
    profile: str,
    timeout: float = SAML_PROCESS_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> SamlAssertion:
    """Run `command` and read the assertion it prints."""
    where = "saml_process"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise _fail(profile, f"{where} cannot be split into arguments: {exc}",
                               hint="Check its quoting in config.toml.") from None
    if not argv:
        raise _fail(profile, f"{where} is empty", hint="Set saml_process to a command, or remove it.")
    try:
        completed = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            env=None if env is None else dict(env),
            shell=False,
        )
    except FileNotFoundError:
        raise _fail(
            profile,
            f"{where}: program {argv[0]!r} not found",
            hint="Use an absolute path or put it on PATH; it is run without a shell.",
        ) from None
    except PermissionError:
        raise _fail(profile, f"{where}: program {argv[0]!r} is not executable",
                               hint=f"chmod +x {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise _fail(
            profile,
            f"{where} did not finish within {timeout:g} s",
            hint="It must print the SAMLResponse and exit; it gets no terminal input.",
        ) from None
    except OSError as exc:
        raise _fail(profile, f"{where} could not start: {exc.strerror or exc}") from None
    if completed.returncode != 0:
        stderr = _shorten(completed.stderr)
        detail = f": {stderr}" if stderr else " (nothing on stderr)"
        raise _fail(profile, f"{where} exited with status {completed.returncode}{detail}",
                               hint="Run the command in a terminal to see what it needs (a sign-in?).")
    if len(completed.stdout) > MAX_STDOUT:
        raise _fail(profile, f"{where} printed more than {MAX_STDOUT} bytes",
                               hint="It must print only the base64 SAMLResponse on stdout.")
    text = completed.stdout.decode("utf-8", "replace").strip()
    if not text:
        raise _fail(profile, f"{where} printed nothing on stdout",
                               hint="It must print the base64 SAMLResponse; log to stderr instead.")
    return decode_assertion(text, profile=profile)


def _fail(profile: str, message: str, *, hint: str | None = None) -> SamlProcessError:
    return SamlProcessError(message, hint=hint, profile=profile)


def read_pasted(text: str, *, profile: str) -> SamlAssertion:
    """An assertion pasted into the dashboard (or piped to the CLI)."""
    return decode_assertion(text, profile=profile)


def _shorten(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    text = "".join(c if c.isprintable() or c == " " else " " for c in text.replace("\n", " | "))
    return text[:MAX_STDERR] + ("…" if len(text) > MAX_STDERR else "")
