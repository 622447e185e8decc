"""The dashboard: every profile and SSO session ticking down, one key to refresh.

All AWS work goes through the app's RefreshEngine / SsoManager in thread workers; results come back as
messages (see ``stsdash.ui.messages``) and are applied here, on the event loop. Every key is a Binding
below with a tooltip: the footer, the help screen and the command palette are all made from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Input, Static, TabbedContent, TabPane

from stsdash.autorefresh import AUTO_REFRESH_SECONDS
from stsdash.errors import StsdashError
from stsdash.profiles import Status
from stsdash.ui.rows import (
    PROFILE_COLUMNS,
    SESSION_COLUMNS,
    RowState,
    natural_widths,
    plural,
    profile_cells,
    session_cells,
)
from stsdash.ui.screens.dashboard_work import DashboardWork
from stsdash.ui.screens.details import DetailsScreen, profile_sections, session_sections
from stsdash.ui.screens.help import HelpScreen
from stsdash.ui.screens.sso_login import SsoLoginScreen
from stsdash.ui.screens.verbs import Verbs
from stsdash.ui.search import ProfileIndex
from stsdash.ui.welcome import welcome_text
from stsdash.ui.widgets.footer import SettlingFooter
from stsdash.ui.widgets.live_table import LiveTable

if TYPE_CHECKING:
    from stsdash.profiles import Profile, SsoSession
    from stsdash.ui.app import StsdashApp

TABS = ("tab-profiles", "tab-sessions")


class DashboardScreen(DashboardWork):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh_selected", "Refresh",
                tooltip="refresh the selected profile (asks for an MFA code only when needed)"),
        Binding("R", "refresh_stale", "Refresh stale", key_display="R",
                tooltip="refresh every stale profile: one code per MFA device"),
        Binding("l", "sso_login", "SSO login", tooltip="log in to the selected profile's SSO session"),
        # A priority binding runs when the key arrives, before the keys read with it are routed: a
        # non-priority one runs only after they were already sent to the table, and they were lost.
        Binding("slash", "filter", "Filter", key_display="/", priority=True,
                tooltip="filter: fuzzy, by name, account id, role or kind (escape clears)"),
        Binding("w", "whoami", "Who am I", tooltip="who am I: GetCallerIdentity for the selected profile"),
        Binding("c", "copy", "Copy",
                tooltip="copy exports (AWS_PROFILE or the keys) for sh, fish, powershell, dotenv or json"),
        Binding("o", "console", "Console", tooltip="open the AWS console signed in as the selected profile"),
        Binding("g", "region", "Region",
                tooltip="choose the selected profile's region for this session (used by c and o)"),
        Binding("tab", "next_tab", "Switch table", show=False,
                tooltip="switch between the profiles and SSO sessions tables"),
        Binding("shift+tab", "next_tab", "Switch table", show=False),
        Binding("1", "show_tab(0)", "Profiles", show=False, tooltip="the profiles table"),
        Binding("2", "show_tab(1)", "SSO sessions", show=False, tooltip="the SSO sessions table"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="this help"),
        Binding("q", "app.quit", "Quit", tooltip="quit"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    app: StsdashApp

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self._index: ProfileIndex | None = None
        self._detail_text = ""
        self._keys_state: tuple | None = None
        self.verbs = Verbs(self)  # copy, console, region and decode (stsdash/ui/screens/verbs.py)

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:
        """Plain text by default: profile names, sections like [x-session] and STS messages are data,
        and any control character in them is shown escaped, never sent to the terminal."""
        from stsdash.terminal import printable

        if isinstance(kwargs.get("title"), str):
            kwargs["title"] = printable(kwargs["title"])
        super().notify(printable(message, keep_newlines=True), markup=markup, **kwargs)

    # ---- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(icon="◷")
        yield Input(placeholder="filter: name, account, role or kind · enter keeps it · escape clears",
                    id="filter")
        with TabbedContent(id="tabs"):
            with TabPane("1 Profiles", id="tab-profiles"):
                yield Static(id="welcome")
                yield LiveTable(PROFILE_COLUMNS, cells_for=self.cells_of, id="profiles")
                yield Static(id="detail-line", markup=False)
            with TabPane("2 SSO sessions", id="tab-sessions"):
                yield LiveTable(SESSION_COLUMNS, cells_for=self._session_cells_of, id="sessions")
        yield SettlingFooter()

    def on_mount(self) -> None:
        self.title = "stsdash"
        self.sub_title = "loading…"
        self.query_one("#filter", Input).display = False
        self.query_one("#welcome", Static).display = False
        self._apply_theme_styles()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._apply_theme_styles())
        self.profile_table.focus()
        self.load_profiles()
        self.set_interval(1.0, self.tick, name="countdown")
        if self.app.watch_files:
            self.watch_files()
        if self.app.settings_auto_refresh:
            self.set_interval(AUTO_REFRESH_SECONDS, self.run_auto_refresh, name="auto-refresh")

    @property
    def session_table(self) -> LiveTable:
        return self.query_one("#sessions", LiveTable)

    # ---- rendering ----------------------------------------------------------------------------
    def _apply_theme_styles(self) -> None:
        theme = self.app.current_theme
        styles = {
            "fresh": f"{theme.success}",
            "expiring": f"bold {theme.warning}",
            "expired": f"bold {theme.error}",
            "problem": f"{theme.error}",
            "cancelled": "dim",
            "busy": f"{theme.accent}",
            "dim": "dim",
            "name": "bold",
        }
        for table in self.query(LiveTable):
            table.restyle(styles)

    def cells_of(self, name: str) -> dict[str, tuple[str, str]]:
        """Every cell of one profile row, as of now (the table asks only for rows it draws)."""
        profile = self.profiles.profiles.get(name) if self.profiles is not None else None
        if profile is None:
            return {}
        state = self.states.get(name) or RowState()
        return profile_cells(profile, state, self.app.now(), self.app.refresh_ahead, self.spin)

    def _session_cells_of(self, name: str) -> dict[str, tuple[str, str]]:
        session = self.profiles.sso_sessions.get(name) if self.profiles is not None else None
        if session is None:
            return {}
        return session_cells(session, self.app.now(), self.app.refresh_ahead)

    def visible_names(self) -> list[str]:
        if self.profiles is None:
            return []
        if self.filter_text:
            if self._index is None:
                self._index = ProfileIndex(self.profiles.visible(self.app.settings_hidden))
            return self._index.search(self.filter_text)
        return [p.name for p in self.profiles.visible(self.app.settings_hidden)]

    def show_rows(self, *, remeasure: bool = False) -> None:
        """Give the tables their rows (after a load or a filter keystroke)."""
        if self.profiles is None:
            return
        table = self.profile_table
        natural = None
        if remeasure:
            natural = natural_widths(self.profiles.visible(self.app.settings_hidden))
        table.empty_text = f"no matches for “{self.filter_text}”" if self.filter_text else "no profiles"
        table.set_rows(self.visible_names(), natural)
        sessions = list(self.profiles.sso_sessions)
        if remeasure or sessions != self.session_table.keys:
            widths = {"name": max((len(s) for s in sessions), default=0), "region": 14, "expires": 16}
            self.session_table.set_rows(sessions, widths)
        self.update_detail_line()

    def tick(self) -> None:
        """1 Hz: countdowns, for the rows on screen only, and only cells whose text changed.

        Skipped while a modal covers the dashboard: typing an MFA code must stay instant, and
        `on_screen_resume` catches up.
        """
        if self.is_current and self.profiles is not None:
            with self.app.batch_update():
                self.profile_table.refresh_visible()
                self.session_table.refresh_visible()

    def show_welcome(self, empty: bool) -> None:
        welcome = self.query_one("#welcome", Static)
        if empty and self.profiles is not None:
            welcome.update(welcome_text(self.profiles.paths))
        welcome.display = empty
        self.profile_table.display = not empty
        self.query_one("#detail-line", Static).display = not empty

    def files_loaded(self) -> None:
        self._index = None
        self.show_rows(remeasure=True)
        self.update_summary()
        loaded = self.profiles
        self.show_welcome(loaded is not None and not loaded.profiles and not loaded.sso_sessions)

    def on_screen_resume(self) -> None:
        self.tick()
        self.app.show_deferred_notifications()

    def update_summary(self) -> None:
        if self.profiles is None:
            return
        now, ahead = self.app.now(), self.app.refresh_ahead
        visible = self.profiles.visible(self.app.settings_hidden)
        stale = sum(1 for p in visible if p.refreshable
                    and p.status(now, ahead) in (Status.EXPIRED, Status.EXPIRING))
        problems = sum(1 for p in visible if p.problem)
        parts = [plural(len(visible), "profile"), f"{stale} stale"]
        if problems:
            parts.append(plural(problems, "problem"))
        parts.append(plural(len(self.profiles.sso_sessions), "SSO session"))
        if self.filter_text:
            parts.append(f"{plural(self.profile_table.row_count, 'match', 'matches')}")
        busy = sum(1 for state in self.states.values() if state.busy)
        if busy:  # first, so a narrow terminal still shows it
            parts.insert(0, f"Refreshing {busy}… (escape cancels)")
        self.sub_title = ", ".join(parts)

    def update_detail_line(self) -> None:
        """Under the table: what the columns that did not fit would say about the selected row."""
        profile = self._selected_profile()
        text = ""
        if profile is not None:
            cells = self.cells_of(profile.name)
            shown = set(self.profile_table.shown_columns())
            parts = [cells[key][0] for key in ("kind", "account", "region", "role") if key not in shown]
            error = self.states[profile.name].error if profile.name in self.states else None
            message = (error.text if isinstance(error, StsdashError) else str(error)) if error else ""
            reason = message.strip().splitlines()[0] if message.strip() else ""
            parts.append(f"{cells['result'][0]}: {reason}" if reason else cells["result"][0])
            text = " · ".join(part for part in parts if part and part != "-")
        if text != self._detail_text:  # one line, fixed size: no layout pass for a new text
            self._detail_text = text
            self.query_one("#detail-line", Static).update(text, layout=False)

    @on(LiveTable.RowHighlighted, "#profiles")
    def _row_highlighted(self) -> None:
        self.update_detail_line()
        # The footer's keys depend on the row only through these; recomposing it costs a frame.
        keys_state = (self._sessions_active(), self._selected_profile() is None,
                      self._selected_session() is None)
        if keys_state != self._keys_state:
            self._keys_state = keys_state
            self.refresh_bindings()

    def on_resize(self) -> None:
        self.call_after_refresh(self.update_detail_line)

    # ---- which keys apply -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the keys that do nothing for the selected row (the footer follows the cursor)."""
        sessions = self._sessions_active()
        if action == "sso_login":
            return self._selected_session() is not None
        if action in ("whoami", "copy", "console", "region", "decode"):
            return not sessions and self._selected_profile() is not None
        return True

    # ---- actions -------------------------------------------------------------------------------
    def _selected_profile(self) -> Profile | None:
        if self.profiles is None:
            return None
        name = self.profile_table.selected_key
        return self.profiles.profiles.get(name) if name else None

    def _sessions_active(self) -> bool:
        return self.query_one("#tabs", TabbedContent).active == "tab-sessions"

    def _selected_session(self) -> SsoSession | None:
        if self.profiles is None:
            return None
        if self._sessions_active():
            key = self.session_table.selected_key
            return self.profiles.sso_sessions.get(key) if key else None
        profile = self._selected_profile()
        if profile is None:
            return None
        for key in (profile.sso_session, profile.sso_start_url):
            if key and key in self.profiles.sso_sessions:
                return self.profiles.sso_sessions[key]
        return None

    def action_next_tab(self) -> None:
        self.action_show_tab(0 if self._sessions_active() else 1)

    def action_show_tab(self, index: int) -> None:
        self.query_one("#tabs", TabbedContent).active = TABS[index]
        (self.session_table if index else self.profile_table).focus()
        self.refresh_bindings()

    def action_refresh_selected(self) -> None:
        if self._sessions_active():
            session = self._selected_session()
            if session is not None:
                self.start_refresh([n for n in session.profiles if self._refreshable(n)])
            return
        profile = self._selected_profile()
        if profile is None:
            return
        if not profile.refreshable or profile.problem:
            reason = profile.problem or f"{profile.kind} profiles have nothing stsdash can refresh"
            self.notify(reason, title=f"Cannot refresh {profile.name}", severity="warning")
            return
        self.start_refresh([profile.name])

    def _refreshable(self, name: str) -> bool:
        profile = self.profiles.profiles.get(name) if self.profiles else None
        return bool(profile and profile.refreshable and not profile.problem)

    def action_refresh_stale(self) -> None:
        if self.profiles is not None:
            self.stale_worker(self.profiles)

    def action_sso_login(self) -> None:
        session = self._selected_session()
        if session is None:
            self.notify("Select an SSO profile or session first.", severity="warning")
            return
        if self.app.sso is None:
            self.notify("SSO is not available in this build.", severity="error")
            return
        screen = SsoLoginScreen(session, self.app.sso, flow=self.app.sso_flow,
                                open_browser=self.app.open_browser)

        def done(ok: bool | None) -> None:
            if ok:
                self.load_profiles()

        self.app.push_screen(screen, done)

    def action_details(self) -> None:
        if self.profiles is None:
            return
        now = self.app.now()
        if self._sessions_active():
            session = self._selected_session()
            if session is not None:
                self.app.push_screen(DetailsScreen(session.name, session_sections(session, now)))
            return
        profile = self._selected_profile()
        if profile is None:
            return
        state = self.states.setdefault(profile.name, RowState())
        sections = profile_sections(profile, state, self.profiles, now)
        self.app.push_screen(self.verbs.details_screen(profile, sections))

    @on(LiveTable.RowSelected)
    def _row_selected(self, event: LiveTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def action_filter(self) -> None:
        """Show the filter box and focus it now, not after the keys already queued behind `/`."""
        box = self.query_one("#filter", Input)
        if box.has_focus:  # `/` typed in the filter itself is text
            box.insert_text_at_cursor("/")
            return
        box.display = True
        if self._index is None and self.profiles is not None:  # built now, not on the first keystroke
            self._index = ProfileIndex(self.profiles.visible(self.app.settings_hidden))
        self.query_one("#tabs", TabbedContent).active = "tab-profiles"
        self.set_focus(box)

    def action_clear_filter(self) -> None:
        """Escape: cancel the refreshes in progress if there are any, else clear the filter."""
        if any(state.busy for state in self.states.values()):
            from stsdash.providers.http import cancel_all

            cancel_all()  # calls in flight fail at once as "cancelled"; nothing is written for them
            self.notify("Refresh cancelled.", timeout=3)
            return
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.set_focus(self.profile_table)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.show_rows()
        self.update_summary()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            event.input.display = False
        self.set_focus(self.profile_table)

    def action_whoami(self) -> None:
        profile = self._selected_profile()
        if profile is None:
            return
        self.notify(f"asking STS who {profile.name} is…", title="Who am I", timeout=2)
        self.whoami_worker(profile.name)

    def action_copy(self) -> None:
        profile = self._selected_profile()
        if profile is not None:
            self.verbs.copy(profile)

    def action_console(self) -> None:
        profile = self._selected_profile()
        if profile is not None:
            self.verbs.console(profile)

    def action_region(self) -> None:
        profile = self._selected_profile()
        if profile is not None:
            self.verbs.pick_region(profile)

    def action_decode(self) -> None:
        profile = self._selected_profile()
        if profile is not None:
            self.verbs.decode(profile)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str, str]]:
        """(key, action, what it does) for every key with help: the same Binding objects the footer
        shows, so help, palette and footer cannot disagree. App-wide keys run as `app.` actions."""
        groups = [("", LiveTable.BINDINGS), ("", self.BINDINGS), ("app.", type(self.app).BINDINGS)]
        bindings = [(prefix, b) for prefix, group in groups for b in group if isinstance(b, Binding)]
        seen: set[str] = set()
        entries = []
        for prefix, binding in bindings:
            text = binding.tooltip or (binding.description.lower() if binding.show or prefix else "")
            if not text or binding.action in seen:
                continue
            seen.add(binding.action)
            keys = [b.key_display or b.key for _, b in bindings if b.action == binding.action]
            action = "details" if binding.action == "select" else prefix + binding.action  # table's enter
            entries.append((" / ".join(keys), action, text))
        entries.append(("ctrl+p", "command_palette", "command palette: every action by name"))
        return entries
