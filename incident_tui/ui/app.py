"""The war-room app: owns the fold of the store and routes it to the screens.

One path for every change: a screen turns a typed line into events, `append_line`
writes them through the store in a thread, and the sync loop (sync.py) brings them
back, with everyone else's, into `registry`. The screens only ever draw the fold.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.worker import get_current_worker

from .. import gcpolicy
from ..domain.checklists import Runbooks
from ..domain.events import Event, now_utc
from ..domain.fold import Registry
from ..domain.text import safe_text
from ..store import folded
from ..store.base import Store
from . import documents
from .colors import with_fallbacks
from .drafts import DraftBox
from .messages import (
    DeclareIncident,
    DeliveriesChanged,
    EventsArrived,
    ExportDocuments,
    LineAppended,
    LineRefused,
    LinkChanged,
    OpenIncident,
    ShowDocument,
    StoreLoaded,
    StoreNotice,
    SubmitLine,
    SyncFailed,
)
from .palette import WarRoomCommands
from .room import Room
from .screens.incidents import IncidentListScreen
from .screens.quit import QuitScreen
from .sync import follow_store
from .theming import ThemeError

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from ..config import Config
    from ..session import Session
    from ..store.deliveries import DeliveryWatch
    from .screens.dashboard import DashboardScreen

# Grouped so the footer fits 80 columns: "f3f4 Inc".
SWITCH = Binding.Group("Inc", compact=True)


def _no_commander_minutes(config: Config | None) -> float:
    """The reminder's delay as `serve` reads it ([delivery] no_commander_minutes), else 10."""
    from ..domain.notices import NO_COMMANDER_MINUTES

    value = (config.tables.get("delivery", {}) if config else {}).get("no_commander_minutes")
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok else float(NO_COMMANDER_MINUTES)


_UI = Path(__file__).parent
DELIVERY_POLL = 3.0  # seconds between looks at serve's delivery health


class WarRoomApp(App[int]):
    TITLE = "incident-tui"
    COMMANDS = App.COMMANDS | {WarRoomCommands}
    # The list is the default screen, whose own CSS_PATH Textual never loads: read it here.
    # Anchored here: Textual resolves a relative CSS_PATH against a subclass's own file.
    CSS_PATH: ClassVar[list[str | PurePath]] = [_UI / "app.tcss", _UI / "screens" / "incidents.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("f1", "help", "Keys", id="app.help"),
        Binding("f2", "incidents", "List", id="app.incidents"),
        Binding("f3", "cycle(-1)", "Previous incident", id="app.prev_incident", group=SWITCH),
        Binding("f4", "cycle(1)", "Next incident", id="app.next_incident", group=SWITCH),
    ]

    def __init__(
        self,
        store: Store,
        runbooks: Runbooks,
        user: str,
        *,
        config: Config | None = None,
        theme: str | None = None,
        drafts: DraftBox | None = None,
        clock: Callable[[], datetime] = now_utc,
        tz: tzinfo | None = None,
        sync_wait: float = 0.5,
        on_log_loaded: Callable[[], None] | None = None,
    ) -> None:
        """`on_log_loaded`: the process's collector policy, called once the store's log is
        folded (run_app's; the app itself never touches the collector)."""
        super().__init__()
        self.store = store
        drafts = drafts.for_user(user) if drafts is not None else None  # per person, not per account
        self.room = Room(runbooks, user, clock, tz, drafts, store.location)
        self._config = config
        self._theme_warnings: list[str] = []
        self._theme_name = self._register_themes(config, theme)
        if self._theme_name and self._theme_name in self.available_themes:
            # Set before mount, so the first frame is already styled (no restyle after it).
            self.theme = self._theme_name
        self._sync_wait = sync_wait
        # A remote store is read in the sync thread: until it answers, the first frames say
        # "connecting", never "local" (which would claim the lines are safe on this disk).
        # A store that opens on its first read (a remote one) is read in the sync thread.
        self._read_in_thread = bool(getattr(store, "opens_on_first_read", False))
        self.room.link = "connecting" if self._read_in_thread else "local"
        self.room.no_commander_minutes = _no_commander_minutes(config)
        self._on_log_loaded = on_log_loaded
        self._dashboards: dict[str, DashboardScreen] = {}
        self._open_when_seen: str | None = None
        self._last_sync_error = ""
        self._listing = IncidentListScreen(self.room)
        self._delivery_watch: DeliveryWatch | None = None
        self._typed_here: set[str] = set()  # ids of events written from this window
        self._quit_when_sent = False  # ctrl+q chose to wait for the outbox to empty
        self._skipped_told = 0

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast, whoever raises it: its text may quote a store, a server or what was
        typed, so it is shown through `safe_text`, never as markup or terminal control."""
        super().notify(
            safe_text(message, 1000),
            title=safe_text(title, 100, oneline=True),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def _tell_skipped(self) -> None:
        """Events in the log this version cannot fold: said once each, never fatal."""
        if self.registry is None or len(self.registry.skipped) <= self._skipped_told:
            return
        new = self.registry.skipped[self._skipped_told :]
        self._skipped_told = len(self.registry.skipped)
        seq, reason = new[0]
        more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
        self.notify(f"seq {seq}: {reason}{more}", title="Skipped an event this version cannot fold", severity="warning")

    @property
    def registry(self) -> Registry | None:
        return self.room.registry

    def now(self) -> datetime:
        return self.room.now()

    # -- theme -------------------------------------------------------------------

    def get_css_variables(self) -> dict[str, str]:
        # setdefault: any theme, even a builtin one without $sev1.., still renders our CSS.
        return with_fallbacks(super().get_css_variables(), self.current_theme.dark)

    def _register_themes(self, config: Config | None, theme: str | None) -> str | None:
        """Our theme files, registered before the first paint; raises ThemeError on an unknown name."""
        from .theming import package_themes, register_themes

        if config is not None:
            chosen = register_themes(self, config, self._theme_warnings)
            return theme or chosen
        for t in package_themes():  # embedded or under test: the shipped themes, no user files
            self.register_theme(t)
        return theme

    # -- lifecycle -----------------------------------------------------------------

    def get_default_screen(self) -> IncidentListScreen:
        # The list is the bottom of the screen stack, composed with the app: pushed from
        # on_mount instead, it came one frame (~35 ms) after an empty first frame.
        if not self._read_in_thread and self.registry is None:
            # A local store is already open: fold it here so the first frame shows the
            # incidents, instead of a round trip through the sync thread. A big JSON store
            # answers from its index (each incident's folded state; timelines read by position).
            self._adopt(folded(self.store))
        return self._listing

    def on_mount(self) -> None:
        for warning in self._theme_warnings:
            self.notify(warning, title="Theme skipped", severity="warning", markup=False)
        self._install_hangup()
        if self.registry is not None:
            self.call_later(self._after_load)
        self._sync()
        self.set_interval(DELIVERY_POLL, self._poll_deliveries)

    def _poll_deliveries(self) -> None:
        # A short-lived worker per look, not a thread that sleeps: the thread pool is shared,
        # and a sleeping thread would hold the app's exit until it woke.
        if self.registry is not None:  # the store is open (a remote one opens on its first read)
            self._check_deliveries()

    @work(thread=True, exclusive=True, group="deliveries", exit_on_error=False)
    def _check_deliveries(self) -> None:
        """Is serve failing to deliver notifications? (a status file, or GET /deliveries)."""
        from ..store.deliveries import DeliveryWatch

        if self._delivery_watch is None:
            self._delivery_watch = DeliveryWatch(self.store)
        line = self._delivery_watch.check()
        if line != self.room.notify_trouble:
            self.post_message(DeliveriesChanged(line))

    def on_deliveries_changed(self, message: DeliveriesChanged) -> None:
        self.room.notify_trouble = message.line
        for dash in self._dashboards.values():
            dash.state_changed()

    def _install_hangup(self) -> None:
        # Over SSH a dropped link sends SIGHUP, which would kill us before anything is saved.
        try:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(sig, self._hangup)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            pass

    def _hangup(self) -> None:
        self.save_drafts()
        self.exit(0)

    def on_unmount(self) -> None:
        self.save_drafts()
        try:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGHUP, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    def save_drafts(self) -> None:
        for dash in self._dashboards.values():
            dash.save_draft()

    async def action_quit(self) -> None:
        """ctrl+q. Lines the server has not acknowledged yet are kept in the outbox either
        way; with some waiting, ask whether to wait for them or leave them queued."""
        if self.room.pending and not self._quit_when_sent and not isinstance(self.screen, QuitScreen):
            self.push_screen(QuitScreen(len(self.room.pending), self.room.link), self._quit_answer)
            return
        self.save_drafts()
        self.exit(0)

    def _quit_answer(self, answer: str | None) -> None:
        if answer == "leave" or (answer == "wait" and not self.room.pending):
            self.save_drafts()
            self.exit(0)
        elif answer == "wait":
            self._quit_when_sent = True
            self.save_drafts()
            self.notify(
                f"quitting once {len(self.room.pending)} queued line(s) reach the server"
                " (ctrl+q again leaves them queued)",
                title="Waiting to send",
                markup=False,
            )

    # -- sync ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def _sync(self) -> None:
        worker = get_current_worker()
        after = self.registry.last_seq if self.registry is not None else None
        follow_store(self.store, self.post_message, lambda: worker.is_cancelled, self._sync_wait, after)

    def _adopt(self, registry: Registry) -> None:
        self.room.registry = registry
        if self._on_log_loaded is not None:
            self._on_log_loaded()

    def on_store_loaded(self, message: StoreLoaded) -> None:
        self._adopt(message.registry)
        self._after_load()

    def _after_load(self) -> None:
        assert self.registry is not None
        self._tell_skipped()
        self._listing.refresh_rows()
        drafts = self.room.drafts
        drafts = [i for i in (drafts.incidents() if drafts else []) if i in self.registry.incidents]
        active = self.registry.active()
        for incident in drafts:
            self.open_incident(incident)
        if drafts:
            self.notify("restored unsent lines from your last session", title="Drafts", markup=False)
        elif len(active) == 1:
            self.open_incident(active[0].id)

    def on_events_arrived(self, message: EventsArrived) -> None:
        self._last_sync_error = ""
        if self.registry is None:
            return
        touched = self.registry.extend(message.events)
        self._tell_skipped()
        listing = self._listing
        # is_active, not is_current: Textual counts the screen under the top one as current
        # (it may show through), and the list is always under a dashboard; rebuilding it
        # for every event there cost a dashboard's keystrokes (bench_timeline p99 42 -> 54 ms).
        if listing.is_active:  # otherwise it rebuilds when shown (on_screen_resume)
            listing.refresh_rows()
        # Others' events redraw at a bounded rate; a line typed here shows at once.
        live = not any(e.id in self._typed_here for e in message.events)
        for incident in touched:
            dash = self._dashboards.get(incident)
            if dash is not None:
                dash.state_changed(live=live)
        if self._open_when_seen in touched:
            state = self.registry.incidents[self._open_when_seen]
            if isinstance(self.screen, ModalScreen):
                # A form opened meanwhile: opening the incident would close it, and what is typed there.
                self.notify(f"{state.ref} declared: F2 lists it", markup=False)
            else:
                self.open_incident(self._open_when_seen)
            self._open_when_seen = None
        for e in message.events:
            self._react(e)

    def _react(self, e: Event) -> None:
        """Documents that open themselves: a handoff to or from me, the postmortem phase."""
        if e.kind == "snapshot" and self.room.user in (e.data.get("to"), e.data.get("from")):
            self.show_document(e.incident, "snapshot", handoff=e)
        elif e.kind == "phase.set" and e.data.get("phase") == "postmortem" and e.incident in self._dashboards:
            # The draft opens where the phase was typed; everyone else is told, not interrupted
            # mid-sentence by a document taking over their screen.
            if e.id in self._typed_here:
                self.show_document(e.incident, "postmortem")
            elif self.registry is not None:
                ref = self.registry.incidents[e.incident].ref
                self.notify(
                    f"{ref} is in the postmortem phase ({e.author}): F9 opens the draft",
                    title="Postmortem",
                    markup=False,
                )

    def on_link_changed(self, message: LinkChanged) -> None:
        self.room.link = message.link
        self.room.server = message.server
        self.room.pending = message.pending
        for dash in self._dashboards.values():
            dash.state_changed()
            dash.link_changed(message.link, len(message.pending))
        if self._quit_when_sent and not message.pending:
            self.exit(0)

    def on_store_notice(self, message: StoreNotice) -> None:
        self.notify(message.text, title="Not sent", severity="warning", timeout=30)

    def on_sync_failed(self, message: SyncFailed) -> None:
        # The loop retries every second: say it once per distinct reason, not once a second.
        if message.reason != self._last_sync_error:
            self._last_sync_error = message.reason
            self.notify(f"store read failed, retrying: {message.reason}", severity="error", markup=False)

    # -- writing -------------------------------------------------------------------

    @work(thread=True, group="append", exit_on_error=False)
    def append_line(self, incident: str, line: str, events: Sequence[Event]) -> None:
        self._typed_here.update(e.id for e in events)
        try:
            stored = self.store.append(events)
        except Exception as exc:  # the reason goes to the bar, the typed text stays
            self.post_message(LineRefused(incident, line, str(exc) or type(exc).__name__))
            return
        pending = self.store.pending()
        self.post_message(LineAppended(incident, line, stored))
        if any(e.seq is None for e in stored):
            self.post_message(LinkChanged(self.store.link_state(), pending))

    def on_line_appended(self, message: LineAppended) -> None:
        dash = self._dashboards.get(message.incident)
        if dash is not None and dash.is_mounted:
            dash.line_appended(message.line, message.stored)
        elif message.stored and message.stored[0].kind == "incident.declared":
            self.notify("incident declared", markup=False)

    def on_line_refused(self, message: LineRefused) -> None:
        dash = self._dashboards.get(message.incident)
        if dash is not None and dash.is_mounted:
            dash.line_refused(message.line, message.reason)
        else:
            self.notify(f"not written: {message.reason}", severity="error", markup=False)

    def on_submit_line(self, message: SubmitLine) -> None:
        self.append_line(message.incident, message.line, message.events)

    def on_declare_incident(self, message: DeclareIncident) -> None:
        self.declare(message.title, message.severity, message.summary)

    def declare(self, title: str, severity: str, summary: str) -> None:
        from ..domain.commands import CommandError, declare_event  # the parser: not needed for the first paint

        try:
            event = declare_event(title, self.room.user, severity, summary)
        except CommandError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._open_when_seen = event.incident
        self.append_line(event.incident, f"declare {title}", [event])

    # -- navigation ------------------------------------------------------------------

    def on_open_incident(self, message: OpenIncident) -> None:
        self.open_incident(message.incident)

    def _show(self, screen: str) -> None:
        """The list is the bottom of the stack and one dashboard at most sits above it;
        a document or form open over the dashboard closes when another incident opens."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def open_incident(self, incident: str) -> None:
        if self.registry is None or incident not in self.registry.incidents:
            return
        name = f"inc-{incident}"
        if incident not in self._dashboards:
            from .screens.dashboard import DashboardScreen  # not needed for the first paint of the list

            dash = DashboardScreen(incident, self.room)
            self._dashboards[incident] = dash
            self.room.open_order.append(incident)
            self.install_screen(dash, name)
        self._show(name)

    def action_incidents(self) -> None:
        while len(self.screen_stack) > 1:  # dashboards stay installed; forms and documents close
            self.pop_screen()

    def action_cycle(self, step: int) -> None:
        """F3/F4: the previous/next incident among those active or already open, by number.
        (Only the opened ones made F3 do nothing after opening the first from the list.)"""
        if self.registry is None:
            return
        ring = [s.id for s in self.registry.order if s.active or s.id in self._dashboards]
        if not ring:
            return
        current = getattr(self.screen, "incident", None)
        i = ring.index(current) + step if current in ring else (0 if step > 0 else -1)
        self.open_incident(ring[i % len(ring)])

    def action_help(self) -> None:
        from .screens.keys import KeysScreen, keys_text

        if isinstance(self.screen, KeysScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(KeysScreen(keys_text(self.screen.active_bindings)))

    # -- documents -----------------------------------------------------------------

    def _render(self, incident: str, kind: str, handoff: Event | None = None) -> str | None:
        if self.registry is None:
            return None
        try:
            return documents.render(self.registry.incidents[incident], self.room.runbooks, self.now(), kind, handoff)
        except documents.DocumentsUnavailable as exc:
            self.notify(str(exc), severity="warning", markup=False)
        except Exception as exc:  # a document bug must not take the war room down
            self.notify(f"could not render the {kind}: {exc}", severity="error", markup=False)
        return None

    def on_show_document(self, message: ShowDocument) -> None:
        self.show_document(message.incident, message.kind)

    def on_export_documents(self, message: ExportDocuments) -> None:
        self.export_documents(message.incident)

    def show_document(self, incident: str, kind: str, handoff: Event | None = None) -> None:
        from .screens.document import DocumentScreen

        text = self._render(incident, kind, handoff)
        if text is None or self.registry is None:
            return
        title = documents.title(self.registry.incidents[incident].ref, kind, handoff)
        self.push_screen(DocumentScreen(f"{title} · Esc back · ctrl+s export", text, incident))

    def export_documents(self, incident: str) -> None:
        """Render here (the fold is ours), write in a thread (the disk may be slow)."""
        if self.registry is None:
            return
        texts = {kind: self._render(incident, kind) for kind in documents.KINDS}
        if any(t is None for t in texts.values()):
            return
        folders = [Path.cwd()] + ([self._config.data_dir] if self._config else [])
        self._write_documents(self.registry.incidents[incident].ref, texts, folders)

    @work(thread=True, group="export", exit_on_error=False)
    def _write_documents(self, ref: str, texts: dict[str, str], folders: list[Path]) -> None:
        written = documents.write(ref, texts, folders)
        if written:
            message = "wrote " + " and ".join(str(p) for p in written)
            self.call_from_thread(self.notify, message, title="Exported", markup=False)
        else:
            where = ", ".join(str(f) for f in folders)
            self.call_from_thread(self.notify, f"could not write to {where}", severity="error", markup=False)


def run_app(session: Session) -> int:
    config = session.config
    drafts = DraftBox(config.data_dir / "drafts", config.remote or str(config.store))
    try:
        # A local file opens here, before the event loop: parsing it alone (~70 ms at 10k events)
        # shows the incidents sooner than parsing it in a thread beside the first frames (~+60 ms
        # of GIL contention, measured). A remote store opens nothing until its first read, which
        # the sync thread makes, so a slow network never holds the window closed.
        with gcpolicy.paused():  # every event parsed survives: no collection over them
            store = session.store
        # The log just loaded lives as long as the app; without this, the cyclic GC walks it
        # again and again while Textual boots (100k events: ~0.1 s of the open, measured),
        # and a full collection stalls a keystroke for ~100 ms. Again once it is folded.
        gcpolicy.freeze()
        app = WarRoomApp(
            store, session.runbooks, config.user, config=config, drafts=drafts, on_log_loaded=gcpolicy.freeze
        )
    except ThemeError as exc:
        print(f"incident-tui: {exc}", file=sys.stderr)
        return 2
    app.run()
    return app.return_code or 0
