"""The dashboard's header line: the truth of an incident at a glance."""

from __future__ import annotations

from datetime import datetime, timedelta

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
        sev = self.query_one("#hdr-sev", Label)
        sev.set_classes(f"-{state.severity.lower()}")
        sev.update(Text(state.severity))
        self.query_one("#hdr-ref", Label).update(Text(state.ref))
        phase = self.query_one("#hdr-phase", Label)
        phase.set_classes(f"-{state.phase}")
        phase.update(Text(state.phase))
        self.query_one("#hdr-title", Label).update(Text(safe_text(state.title, 200, oneline=True)))
        firing, resolved = state.alert_counts()
        alerts = self.query_one("#hdr-alerts", Label)
        alerts.set_classes("-none" if not (firing or resolved) else "-firing" if firing else "")
        alerts.update(Text(alerts_text(firing, resolved)))
        self.tick(state, now, link, pending, server)

    def tick(self, state: IncidentState, now: datetime, link: str, pending: int, server: str = "") -> None:
        """The parts that move with the clock, redrawn every second."""
        self.query_one("#hdr-clock", Label).update(Text(clock_text(state.elapsed(now))))
        upd = self.query_one("#hdr-update", Label)
        due = state.next_update_due()
        if due is None:
            upd.set_classes("-none")
        else:
            text, overdue = countdown_text(due, now)
            upd.set_classes("-overdue" if overdue else "")
            upd.update(Text(text))
        lk = self.query_one("#hdr-link", Label)
        lk.set_class(link in ("reconnecting", "offline") or pending > 0, "-trouble")
        lk.update(Text(link_text(link, pending, safe_text(server, 40, oneline=True))))
