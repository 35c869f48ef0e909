"""The dashboard's header line: the truth of an incident at a glance."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from ...domain.fold import IncidentState
from ...domain.text import safe_text

LINK_MARKS = {"local": "●", "connected": "●", "connecting": "◌", "reconnecting": "◐", "offline": "○"}


def clock_text(delta: timedelta) -> str:
    s = int(max(delta.total_seconds(), 0))
    h, rem = divmod(s, 3600)
    return f"{h:02d}:{rem // 60:02d}:{rem % 60:02d}" if h < 100 else f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def countdown_text(due: datetime, now: datetime) -> tuple[str, bool]:
    """`upd 12:03` until the next stakeholder update, `upd -05:10` once overdue."""
    left = (due - now).total_seconds()
    overdue = left < 0
    s = int(abs(left))
    mm, ss = divmod(s, 60)
    body = f"{mm:02d}:{ss:02d}" if mm < 100 else f"{mm // 60}h{mm % 60:02d}"
    return (f"update OVERDUE {body}" if overdue else f"update in {body}"), overdue


def alerts_text(firing: int, resolved: int) -> str:
    """`alerts 2▲1✓`: firing and resolved alerts on the incident, by their latest status
    (short: the header shares 80 columns with the title and the clocks)."""
    return f"alerts {firing}▲{resolved}✓"


def link_text(link: str, pending: int, server: str = "") -> str:
    mark = LINK_MARKS.get(link, "?")
    via = f" {server}" if server else ""
    if link in ("reconnecting", "offline") or pending:
        return f"{mark} {link}{via} ⇡{pending}"
    return f"{mark} {link}{via}"


class IncidentHeader(Horizontal):
    DEFAULT_CSS = """
    IncidentHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    IncidentHeader Label { padding: 0 1 0 0; height: 1; }
    IncidentHeader #hdr-ref { text-style: bold; padding: 0 1; }
    IncidentHeader #hdr-sev { text-style: bold; padding: 0 1; margin-right: 1; color: auto 90%; }
    IncidentHeader #hdr-sev.-sev1 { background: $sev1; }
    IncidentHeader #hdr-sev.-sev2 { background: $sev2; }
    IncidentHeader #hdr-sev.-sev3 { background: $sev3; }
    IncidentHeader #hdr-sev.-sev4 { background: $sev4; }
    IncidentHeader #hdr-sev.-sev5 { background: $sev5; }
    IncidentHeader #hdr-phase { text-style: bold; }
    IncidentHeader #hdr-phase.-detected { color: $phase-detected; }
    IncidentHeader #hdr-phase.-triage { color: $phase-triage; }
    IncidentHeader #hdr-phase.-mitigating { color: $phase-mitigating; }
    IncidentHeader #hdr-phase.-monitoring { color: $phase-monitoring; }
    IncidentHeader #hdr-phase.-resolved { color: $phase-resolved; }
    IncidentHeader #hdr-phase.-postmortem { color: $phase-postmortem; }
    IncidentHeader #hdr-phase.-closed { color: $phase-closed; }
    IncidentHeader #hdr-title { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    IncidentHeader #hdr-clock { text-style: bold; }
    IncidentHeader #hdr-update.-overdue { background: $overdue; color: auto 90%; text-style: bold; padding: 0 1; }
    IncidentHeader #hdr-update.-none { display: none; }
    IncidentHeader #hdr-link.-trouble { color: $warning; text-style: bold; }
    IncidentHeader #hdr-alerts.-none { display: none; }
    IncidentHeader #hdr-alerts.-firing { color: $error; text-style: bold; }
    /* Narrow terminals give way in a chosen order (on_resize sets the classes): the clock
       and the alert count first, then the phase, then the update countdown; the
       number, severity, link state and some of the title stay down to 40 columns. */
    IncidentHeader #hdr-title { min-width: 8; }
    IncidentHeader.-lt72 #hdr-clock { display: none; }
    IncidentHeader.-lt64 #hdr-alerts { display: none; }
    IncidentHeader.-lt56 #hdr-phase { display: none; }
    IncidentHeader.-lt48 #hdr-update { display: none; }
    IncidentHeader.-lt48 #hdr-title { min-width: 0; }
    """

    NARROW_STEPS = (72, 64, 56, 48)

    def __init__(self) -> None:
        super().__init__()
        self._shown: dict[str, tuple[str, str]] = {}  # label id -> (text, classes) drawn

    def _put(self, name: str, text: str, classes: str | None = None) -> None:
        """Set one label, and only if it changes: the clocks tick every second, and a label
        update lays out the whole screen unless its width stays (a clock's usually does)."""
        label = self.query_one(f"#{name}", Label)
        if classes is None:
            classes = " ".join(sorted(label.classes))
        old = self._shown.get(name)
        if old == (text, classes):
            return
        self._shown[name] = (text, classes)
        if old is None or old[1] != classes:
            label.set_classes(classes)
        # A new width, or new classes (padding, display), moves the labels beside it.
        same_box = old is not None and old[1] == classes and cell_len(old[0]) == cell_len(text)
        label.update(Text(text), layout=not same_box)

    def on_resize(self) -> None:
        width = self.size.width
        for step in self.NARROW_STEPS:
            self.set_class(width < step, f"-lt{step}")

    def compose(self) -> ComposeResult:
        yield Label(id="hdr-ref")
        yield Label(id="hdr-sev")
        yield Label(id="hdr-phase")
        yield Label(id="hdr-title")
        yield Label(id="hdr-clock")
        yield Label(id="hdr-update")
        yield Label(id="hdr-alerts", classes="-none")
        yield Label(id="hdr-link")

    def show(self, state: IncidentState, now: datetime, link: str, pending: int, server: str = "") -> None:
        self._put("hdr-sev", state.severity, f"-{state.severity.lower()}")
        self._put("hdr-ref", state.ref)
        self._put("hdr-phase", state.phase, f"-{state.phase}")
        self._put("hdr-title", safe_text(state.title, 200, oneline=True))
        firing, resolved = state.alert_counts()
        alerts = "-none" if not (firing or resolved) else "-firing" if firing else ""
        self._put("hdr-alerts", alerts_text(firing, resolved), alerts)
        self.tick(state, now, link, pending, server)

    def tick(self, state: IncidentState, now: datetime, link: str, pending: int, server: str = "") -> None:
        """The parts that move with the clock, redrawn every second (only what changed)."""
        self._put("hdr-clock", clock_text(state.elapsed(now)))
        due = state.next_update_due()
        if due is None:
            self._put("hdr-update", self._shown.get("hdr-update", ("", ""))[0], "-none")
        else:
            text, overdue = countdown_text(due, now)
            self._put("hdr-update", text, "-overdue" if overdue else "")
        trouble = "-trouble" if link in ("reconnecting", "offline") or pending > 0 else ""
        self._put("hdr-link", link_text(link, pending, safe_text(server, 40, oneline=True)), trouble)
