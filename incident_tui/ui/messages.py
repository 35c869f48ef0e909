"""Messages posted to the app: by the sync and append workers, and up from the screens
(plain dataclasses, no state)."""

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
    server: str = ""  # the live one of several servers (SPEC 12); empty with one


@dataclass
class StoreNotice(Message):
    """Something the store set aside or repaired that the person must hear about once."""

    text: str


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


# -- up from the screens (the app handles them) ------------------------------------------


@dataclass
class SubmitLine(Message):
    """A screen turned a typed line into events: write them through the store."""

    incident: str
    line: str
    events: list[Event]


@dataclass
class OpenIncident(Message):
    """Show this incident's war room."""

    incident: str


@dataclass
class ShowDocument(Message):
    """Render and show a document of an incident (`snapshot` or `postmortem`)."""

    incident: str
    kind: str


@dataclass
class ExportDocuments(Message):
    """Write an incident's snapshot and postmortem to files."""

    incident: str


@dataclass
class DeclareIncident(Message):
    """The declare form was filled in."""

    title: str
    severity: str
    summary: str
