"""GetSessionToken for one MFA device: one code, kept in the keyring as the device's MFA session."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError
from stsdash.refresh import sources
from stsdash.refresh.hops.base import Hop
from stsdash.refresh.model import Out
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    from stsdash.creds import Credentials
    from stsdash.providers.base import ProviderResult
    from stsdash.refresh.context import RunContext

log = logging.getLogger(__name__)


@dataclass
class Device:
    serial: str
    user: str
    keys: Credentials
    mfa_process: str | None
    stored: Credentials | None  # live MFA session from the keyring at planning time: no code needed


class SessionTokenHop(Hop):
    def __init__(self, device: Device) -> None:
        super().__init__(f"mfa:{device.serial}", device.user)
        self.device = device
        self.mfa_serial = device.serial
        self.mfa_process = device.mfa_process

    def run(self, ctx: RunContext) -> Out:
        device, services = self.device, ctx.services
        with services.device_lock(device.serial):
            # Another refresh may have got a session while this one waited for the lock.
            stored = sources.stored_session(
                services.secrets, device.serial, utcnow(), ctx.settings.refresh_ahead
            )
            if stored is not None:
                return Out(stored, None, False, stored_serial=device.serial)
            client = ctx.sts_client(ctx.profiles.profiles[device.user], settings_from=self.settings_from)

            def call(code: str | None) -> ProviderResult:
                return client.get_session_token(
                    device.keys,
                    duration_seconds=ctx.settings.session_duration,
                    serial_number=device.serial,
                    token_code=code,
                )

            result = ctx.with_code(self.key, call)
            try:
                services.secrets.set_mfa_session(device.serial, result.credentials)
            except StsdashError as exc:  # the refresh still worked; only the reuse is lost
                log.warning("MFA session for %s not kept: %s", device.serial, exc.message)
            return Out(result.credentials, result.identity, False)
