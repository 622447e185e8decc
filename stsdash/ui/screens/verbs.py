"""The everyday verbs on the dashboard: copy exports, open the console, a region per profile, decode.

`Verbs` belongs to the dashboard screen and does the work for its keys (c, o, g) and palette commands;
everything that talks to AWS runs in a thread worker through the app's RefreshEngine, with the app's
MFA modal as the code provider, so "refresh first when stale, one code per device" holds as for `r`.

A region chosen with `g` is kept for this session only (per profile) and used by copy and console.
Secrets never reach the screen: notifications show masked exports, and the console sign-in URL (a
credential for 15 minutes) goes only to the browser.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from typing import TYPE_CHECKING

from stsdash.exports import FORMATS

if TYPE_CHECKING:
    from textual.screen import Screen

    from stsdash.profiles import Profile
    from stsdash.ui.app import StsdashApp
    from stsdash.ui.screens.dashboard import DashboardScreen

COPY_CHOICES: list[tuple[str | None, str]] = [
    (None, "Profile name (no secrets): AWS_PROFILE and the region"),
    *[(f"profile:{fmt}", f"  {fmt}") for fmt in FORMATS],
    (None, "Credentials (refreshed first when stale)"),
    *[(f"keys:{fmt}", f"  {fmt}") for fmt in FORMATS],
]


class Verbs:
    """The verbs of one dashboard screen. `open_url` opens the console (webbrowser honours $BROWSER)."""

    def __init__(self, screen: DashboardScreen) -> None:
        self.screen = screen
        self.regions: dict[str, str] = {}  # profile -> region chosen with `g`, for this session
        self.open_url: Callable[[str], bool] = webbrowser.open

    @property
    def app(self) -> StsdashApp:
        return self.screen.app

    def region_for(self, profile: Profile) -> str | None:
        return self.regions.get(profile.name) or profile.region

    # ---- c: copy ---------------------------------------------------------------------------------
    def copy(self, profile: Profile) -> None:
        from stsdash.ui.screens.pickers import PickerScreen

        region = self.region_for(profile)
        title = f"Copy exports for {profile.name}" + (f" ({region})" if region else "")
        screen = PickerScreen(title, COPY_CHOICES, selected="profile:sh", dialog_id="copy-dialog",
                              hint="Values are quoted for the chosen shell.")
        self.app.push_screen(screen, lambda choice: self._copy_chosen(profile, choice))

    def _copy_chosen(self, profile: Profile, choice: str | None) -> None:
        if not choice:
            return
        mode, fmt = choice.split(":", 1)
        region = self.region_for(profile)
        if mode == "profile":
            from stsdash.exports import profile_exports, render

            try:
                text = render(profile_exports(profile.target or profile.name, region), fmt)
            except Exception as exc:
                self.screen.notify(str(exc), title="Cannot copy", severity="error")
                return
            self._deliver(profile.name, text, text)
            return
        self.screen.notify(f"getting credentials for {profile.name}…", title="Copy", timeout=2)
        self.screen.run_worker(lambda: self._copy_keys(profile.name, region, fmt), thread=True,
                               group="copy", exit_on_error=False)

    def _copy_keys(self, name: str, region: str | None, fmt: str) -> None:
        from stsdash.exports import credential_exports, masked, render

        try:
            creds = self.app.engine.credentials_for(name, code_provider=self.app.ask_mfa_code)
            exports = credential_exports(creds, region)
            text, shown = render(exports, fmt), render(masked(exports), fmt)
        except Exception as exc:
            self.app.call_from_thread(self.screen.notify, str(exc), title=f"Cannot copy {name}",
                                      severity="error", timeout=10)
            return
        self.app.call_from_thread(self._deliver, name, text, shown)

    def _deliver(self, name: str, text: str, shown: str) -> None:
        # The app says how it was copied (a clipboard tool, or OSC 52 which cannot be confirmed).
        self.app.copy_text(text.rstrip("\n"), shown=shown.rstrip("\n"), label=name)

    # ---- o: console ------------------------------------------------------------------------------
    def console(self, profile: Profile) -> None:
        self.screen.notify(f"signing in to the console as {profile.name}…", title="Console", timeout=3)
        region = self.region_for(profile)
        self.screen.run_worker(lambda: self._console(profile, region), thread=True, group="console",
                               exit_on_error=False)

    def _console(self, profile: Profile, region: str | None) -> None:
        from stsdash.console import (
            console_credentials,
            console_partition,
            destination,
            federation_endpoint,
            login_url,
            signin_token,
        )
        from stsdash.providers.http import resolve_verify

        engine = self.app.engine
        try:
            partition = console_partition(profile, region)
            endpoint = federation_endpoint(engine.settings.signin_endpoint, partition)
            console = console_credentials(engine, profile.name, code_provider=self.app.ask_mfa_code)
            token = signin_token(endpoint, console, verify=resolve_verify(profile.ca_bundle, engine.env))
            opened = self.open_url(login_url(endpoint, token, destination(partition, region, None)))
        except Exception as exc:
            self.app.call_from_thread(self.screen.notify, str(exc), title=f"Console failed: {profile.name}",
                                      severity="error", timeout=10)
            return
        if opened:
            message, severity = f"{console.via}, {region or 'default region'}", "information"
        else:
            message = f"No browser could be opened; run `stsdash console {profile.name} --print`."
            severity = "warning"
        self.app.call_from_thread(self.screen.notify, message, title=f"Console opened: {profile.name}",
                                  severity=severity, timeout=6)

    # ---- g: region -------------------------------------------------------------------------------
    def pick_region(self, profile: Profile) -> None:
        from stsdash.console import console_partition
        from stsdash.regions import regions_of
        from stsdash.ui.screens.pickers import PickerScreen

        current = self.region_for(profile)
        partition = console_partition(profile, current)
        choices: list[tuple[str | None, str]] = [("", f"profile's own ({profile.region or 'none'})")]
        choices += [(region, region) for region in regions_of(partition)]
        screen = PickerScreen(f"Region for {profile.name} ({partition}, this session)", choices,
                              selected=self.regions.get(profile.name, ""), dialog_id="region-dialog",
                              hint="Used by copy (c) and console (o) until stsdash exits.")
        self.app.push_screen(screen, lambda choice: self._region_chosen(profile, choice))

    def _region_chosen(self, profile: Profile, choice: str | None) -> None:
        if choice is None:
            return
        if choice:
            self.regions[profile.name] = choice
        else:
            self.regions.pop(profile.name, None)
        shown = self.region_for(profile) or "none"
        self.screen.notify(f"{profile.name}: {shown}", title="Region for this session", timeout=4)

    # ---- palette: decode -------------------------------------------------------------------------
    def decode(self, profile: Profile) -> None:
        from stsdash.ui.screens.pickers import DecodeScreen

        name = profile.name

        def run(text: str) -> str:
            from stsdash.authz import decode_message, extract_encoded, parse_decoded, render_text

            encoded = extract_encoded(text)
            decoded = decode_message(self.app.engine, name, encoded, code_provider=self.app.ask_mfa_code)
            return render_text(parse_decoded(decoded))

        self.app.push_screen(DecodeScreen(name, run))

    # ---- enter: details, with the account of long-term keys ------------------------------------------
    def details_screen(self, profile: Profile, sections: list[tuple[str, list[tuple[str, str]]]]) -> Screen:
        """DetailsScreen, or KeyDetailsScreen when the profile has long-term keys (GetAccessKeyInfo)."""
        from stsdash.ui.screens.details import DetailsScreen
        from stsdash.ui.screens.pickers import KeyDetailsScreen

        static = profile.static_credentials
        if static is not None and static.is_temporary:
            return DetailsScreen(profile.name, sections)
        if static is None and profile.keys_in != "keyring":
            return DetailsScreen(profile.name, sections)
        engine = self.app.engine

        def lookup() -> str:
            from stsdash.keyinfo import KeyAccounts
            from stsdash.providers.endpoints import sts_client_for

            keys = static or engine.secrets.get_long_term(profile.name)
            if keys is None:
                return "no keys found"
            accounts = KeyAccounts()
            cached = accounts.cached(keys.access_key_id)
            if cached is not None:
                return f"{cached} (GetAccessKeyInfo, cached)"
            account = accounts.lookup(sts_client_for(profile, engine.load(), engine.env), keys)
            return f"{account} (GetAccessKeyInfo)"

        return KeyDetailsScreen(profile.name, sections, lookup)
