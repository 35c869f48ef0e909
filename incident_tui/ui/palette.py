"""Command palette (ctrl+p): every action of the current screen, and every incident by number.

Incident titles are user text: they go in as `Content` (never through the matcher's
`highlight`, which parses markup), and `help` strings here are our own, never user text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from ..domain.text import safe_text
from .messages import OpenIncident

if TYPE_CHECKING:
    from .room import Room

Entry = tuple[str, str, Callable[[], object]]


class WarRoomCommands(Provider):
    def _entries(self) -> list[Entry]:
        app = self.app
        entries: list[Entry] = []
        for target in (self.screen, app):
            for binding in getattr(type(target), "BINDINGS", []):
                # Hidden bindings too: the palette is where keys that do not fit the footer are found.
                if not isinstance(binding, Binding) or not binding.description or binding.action == "command_palette":
                    continue
                key = binding.key.split(",")[0].upper()
                entries.append((f"{binding.description} ({key})", "", partial(target.run_action, binding.action)))
        room: Room | None = getattr(app, "room", None)  # the war-room app's; absent in another app
        if room is not None and room.registry is not None:
            for s in room.registry.order:
                label = f"Open {s.ref} {s.severity} {s.phase}: {safe_text(s.title, 80, oneline=True)}"
                opener = partial(app.post_message, OpenIncident(s.id))
                entries.append((label, "switch to this incident's war room", opener))
        return entries

    async def discover(self) -> Hits:
        for label, help_text, callback in self._entries():
            yield DiscoveryHit(Content(label), callback, text=label, help=help_text or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, callback in self._entries():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, Content(label), callback, text=label, help=help_text or None)
