"""Input rules of the STS API reference, checked before a request is sent so the user gets a precise
message naming the profile and the setting to fix (STS's own ValidationError is much vaguer)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from stsdash.errors import MfaCodeError, ProviderError

# Input rules from the STS API reference; checked before sending so the user gets a precise message.
SESSION_NAME_RE = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
SERIAL_RE = re.compile(r"[\w+=/:,.@-]{9,256}", re.ASCII)
TOKEN_CODE_RE = re.compile(r"[0-9]{6}", re.ASCII)
TAG_KEY_RE = re.compile(r"[\w\s.:/=+\-@]{1,128}")
TAG_VALUE_RE = re.compile(r"[\w\s.:/=+\-@]{0,256}")
ROLE_ARN_RE = re.compile(r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+", re.ASCII)
MAX_TAGS = 50
FEDERATED_NAME_RE = re.compile(r"[\w+=,.@-]{2,32}", re.ASCII)
ACCESS_KEY_ID_RE = re.compile(r"[A-Z0-9]{16,128}", re.ASCII)
PROVIDER_ARN_RE = re.compile(r"arn:aws[\w-]*:iam::\d{12}:saml-provider/[\w.-]{1,128}", re.ASCII)
MAX_POLICY_ARNS = 10
MAX_POLICY_CHARS = 2048  # the plaintext of the inline session policy


class StsInputs:
    """Validation helpers shared by the StsClient operations; errors name `self.profile`."""

    profile: str | None

    def _invalid(self, message: str, *, hint: str | None = None) -> ProviderError:
        return ProviderError(message, profile=self.profile, code="InvalidParameter", hint=hint)

    def _duration(self, seconds: int, low: int, high: int) -> int:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not low <= seconds <= high:
            raise self._invalid(
                f"duration_seconds {seconds!r} is out of range: STS accepts {low}–{high}",
                hint="Fix duration_seconds in the profile or in stsdash settings.",
            )
        return seconds

    def _role_arn(self, arn: str) -> str:
        if not (20 <= len(arn) <= 2048 and ROLE_ARN_RE.fullmatch(arn)):
            raise self._invalid(
                f"role_arn {arn!r} is not an IAM role ARN",
                hint="Expected arn:aws:iam::123456789012:role/NAME (or another partition).",
            )
        return arn

    def _policy_params(self, policy: str | None, policy_arns: Sequence[str] | None) -> list[tuple[str, str]]:
        """Session policies: an inline JSON document and up to 10 managed policy ARNs."""
        params: list[tuple[str, str]] = []
        if policy is not None:
            if not 1 <= len(policy) <= MAX_POLICY_CHARS:
                raise self._invalid(
                    f"the session policy is {len(policy)} characters; STS accepts at most {MAX_POLICY_CHARS}",
                    hint="Shorten the policy (fewer statements, wildcards) or use policy_arns instead.",
                )
            params.append(("Policy", policy))
        arns = list(policy_arns or ())
        if len(arns) > MAX_POLICY_ARNS:
            raise self._invalid(f"{len(arns)} policy ARNs given; STS accepts at most {MAX_POLICY_ARNS}")
        for n, arn in enumerate(arns, 1):
            if not 20 <= len(arn) <= 2048 or not arn.startswith("arn:"):
                raise self._invalid(f"policy ARN {arn!r} is not a valid ARN")
            params.append((f"PolicyArns.member.{n}.arn", arn))
        return params

    def _session_name(self, name: str) -> str:
        if not SESSION_NAME_RE.fullmatch(name):
            raise self._invalid(
                f"role_session_name {name!r} is invalid: use 2–64 characters of letters, digits and +=,.@_-",
                hint="Fix role_session_name in the profile or in stsdash settings.",
            )
        return name

    def _mfa_params(self, serial_number: str | None, token_code: str | None) -> list[tuple[str, str]]:
        if serial_number is None and token_code is None:
            return []
        if serial_number is None:
            raise self._invalid("an MFA code was given but the profile has no mfa_serial")
        if not SERIAL_RE.fullmatch(serial_number):
            raise self._invalid(
                f"mfa_serial {serial_number!r} is invalid",
                hint="Use the device ARN (arn:aws:iam::123456789012:mfa/NAME) or a hardware serial.",
            )
        if token_code is None:
            raise MfaCodeError(
                "an MFA code is required for this call", profile=self.profile, code="MfaRequired"
            )
        code = token_code.strip()
        if not TOKEN_CODE_RE.fullmatch(code):
            raise MfaCodeError(
                "the MFA code must be exactly 6 digits",
                profile=self.profile,
                code="InvalidParameter",
                hint="Enter the current 6-digit code from the device.",
            )
        return [("SerialNumber", serial_number), ("TokenCode", code)]

    def _tags(self, tags: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> list[tuple[str, str]]:
        if not tags:
            return []
        items = list(tags.items()) if isinstance(tags, Mapping) else [tuple(pair) for pair in tags]
        if len(items) > MAX_TAGS:
            raise self._invalid(f"{len(items)} session tags given; STS accepts at most {MAX_TAGS}")
        seen: set[str] = set()
        for key, value in items:
            if not TAG_KEY_RE.fullmatch(key) or key.lower().startswith("aws:"):
                raise self._invalid(f"session tag key {key!r} is invalid (1–128 characters, not 'aws:')")
            if not TAG_VALUE_RE.fullmatch(value):
                raise self._invalid(f"session tag {key!r} has an invalid value (at most 256 characters)")
            if key.lower() in seen:
                raise self._invalid(f"session tag key {key!r} appears twice (keys are case-insensitive)")
            seen.add(key.lower())
        return [(str(k), str(v)) for k, v in items]
