"""What the app shares with its screens: attributes go down, messages come up.

The app owns one `Room` and keeps it current (the fold, the link state, what waits to
be sent); screens get it when they are made and only read it. Anything a screen wants
done (write a line, open an incident, show or export a document, declare) it posts as
a message from `messages.py`, which the app handles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from ..domain.checklists import Runbooks
from ..domain.events import Event
from ..domain.fold import Registry
from .drafts import DraftBox


@dataclass
class Room:
    runbooks: Runbooks
    user: str
    clock: Callable[[], datetime]
    tz: tzinfo | None = None
    drafts: DraftBox | None = None
    location: str = ""  # where the store is, for the list's title
    registry: Registry | None = None  # None until the store's first read is folded
    link: str = "local"
    server: str = ""  # the live one of several servers, shown beside the link state
    pending: list[Event] = field(default_factory=list)
    notify_trouble: str = ""  # serve failing to deliver notifications (SPEC 11), for the header
    no_commander_minutes: float = 10  # the reminder's delay, as serve reads it from the config
    history: list[str] = field(default_factory=list)  # command-bar lines, shared by every open incident
    open_order: list[str] = field(default_factory=list)  # incidents with a dashboard, as F3/F4 cycle

    def now(self) -> datetime:
        return self.clock()

    def localize(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tz)

    def open_refs(self) -> list[str]:
        """INC-N of every incident with a dashboard, in the order F3/F4 cycle through them."""
        reg = self.registry
        return [reg.incidents[i].ref for i in self.open_order] if reg else []

    def people(self) -> list[str]:
        """Everyone seen in any incident of the store, for completion."""
        seen: dict[str, None] = {}
        for state in self.registry.order if self.registry else ():
            seen.update(state.people)
        return list(seen)
