"""Messages the sync and append workers post to the app (plain dataclasses, no state)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..domain.events import Event
from ..domain.fold import Registry


@dataclass
class StoreLoaded(Message):
    """The first full read of the store, folded off the event loop."""

    registry: Registry


@dataclass
class EventsArrived(Message):
    """New acknowledged events, in seq order, from any writer."""

    events: list[Event]


@dataclass
class LinkChanged(Message):
    """The store's link state or its outbox (pending events) changed."""

    link: str
    pending: list[Event]


@dataclass
class SyncFailed(Message):
    """The store could not be read; the sync loop retries."""

    reason: str


@dataclass
class LineAppended(Message):
    """A command-bar line was acknowledged (or queued) by the store."""

    incident: str
    line: str
    stored: list[Event]


@dataclass
class LineRefused(Message):
    """A command-bar line could not be written; the bar keeps it."""

    incident: str
    line: str
    reason: str


@dataclass
class DeliveriesChanged(Message):
    """`serve` started or stopped failing to deliver notifications: one line, or ""."""

    line: str
