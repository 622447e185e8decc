"""The CLI's SamlPrompt: the assertion from `--saml-assertion FILE` (`-` = stdin), the role from
`--saml-role ARN` or a numbered question on the terminal.

A pasted SAMLResponse is one line of 10-30 KB, longer than a terminal's line buffer (4 KB on Linux),
so the CLI never asks for a paste on the terminal: it reads a file or a pipe. The dashboard's modal
takes pastes.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

from stsdash.saml.assertion import SamlAssertion, SamlRole, decode_assertion
from stsdash.saml.roles import describe_role
from stsdash.saml.session import SamlAnswer, SamlInputRequired, SamlRequest

MAX_ASSERTION_FILE_BYTES = 1 << 20


class TerminalSaml:
    def __init__(
        self,
        assertion_file: str | None = None,
        role_arn: str | None = None,
        *,
        has_tty: Callable[[], bool] = lambda: False,
        ask: Callable[[str], str] | None = None,
    ) -> None:
        self.assertion_file = assertion_file
        self.role_arn = role_arn
        self.preferred_role = role_arn  # read by the SAML hop: chosen even over a remembered pick
        self.has_tty = has_tty
        self.ask = ask or _ask_tty
        self._text: str | None = None
        self._lock = threading.Lock()

    def __call__(self, request: SamlRequest) -> SamlAnswer | None:
        assertion: SamlAssertion | None = None
        if request.need_assertion:
            assertion = decode_assertion(self._read(request.profile), profile=request.profile)
        roles = assertion.roles if assertion is not None else request.roles
        if request.configured_role or len(roles) <= 1:
            return SamlAnswer(assertion, None)  # stsdash decides (configured, or the only one)
        if self.role_arn:
            match = next((r for r in roles if r.role_arn == self.role_arn), None)
            if match is None:
                raise SamlInputRequired(
                    f"--saml-role {self.role_arn} is not offered by the assertion",
                    hint="Offered: " + ", ".join(r.role_arn for r in roles),
                    profile=request.profile,
                )
            return SamlAnswer(assertion, match)
        if request.remembered in roles:
            return SamlAnswer(assertion, request.remembered)
        if not self.has_tty():
            raise SamlInputRequired(
                f"the SAML assertion offers {len(roles)} roles and there is no terminal to ask on",
                hint="Pass --saml-role ARN, or set role_arn for the profile in config.toml. Offered: "
                + ", ".join(r.role_arn for r in roles),
                profile=request.profile,
            )
        picked = self._pick(request, roles)
        return SamlAnswer(assertion, picked) if picked is not None else None  # empty answer: skip

    def _read(self, profile: str) -> str:
        with self._lock:  # one file or stdin for every SAML profile of this run
            if self._text is not None:
                return self._text
            if not self.assertion_file:
                raise SamlInputRequired(
                    "a SAML assertion is needed and the profile has no saml_process",
                    hint="Pass --saml-assertion FILE (or - to read it from stdin), set saml_process in "
                    "config.toml, or refresh it in the dashboard to paste it.",
                    profile=profile,
                )
            try:
                if self.assertion_file == "-":
                    text = sys.stdin.read(MAX_ASSERTION_FILE_BYTES + 1)
                else:
                    with Path(self.assertion_file).expanduser().open(encoding="utf-8", errors="replace") as f:
                        text = f.read(MAX_ASSERTION_FILE_BYTES + 1)
            except OSError as exc:
                raise SamlInputRequired(
                    f"cannot read --saml-assertion {self.assertion_file}: {exc.strerror or exc}",
                    profile=profile,
                ) from None
            if len(text) > MAX_ASSERTION_FILE_BYTES:
                raise SamlInputRequired("--saml-assertion is larger than 1 MiB",
                                        hint="It should hold one SAMLResponse.", profile=profile)
            self._text = text
            return text

    def _pick(self, request: SamlRequest, roles: tuple[SamlRole, ...]) -> SamlRole | None:
        lines = [f"profile {request.profile}: the SAML assertion offers {len(roles)} roles"]
        for n, role in enumerate(roles, 1):
            mark = "  (last used)" if role == request.remembered else ""
            lines.append(f"  {n}. {describe_role(role, request.account_names)}{mark}")
        prompt = "\n".join(lines) + f"\nrole [1-{len(roles)}, empty to skip]: "
        while True:
            answer = self.ask(prompt).strip()
            if not answer:
                return None
            if answer.isdigit() and 1 <= int(answer) <= len(roles):
                return roles[int(answer) - 1]
            prompt = f"  a number from 1 to {len(roles)}: "


def _ask_tty(prompt: str) -> str:
    with open("/dev/tty", "r+") as tty:
        tty.write(prompt)
        tty.flush()
        return tty.readline()
