"""The incident model: events, the fold, the command language. No I/O frameworks here."""

from . import schema as _schema  # noqa: F401 - installs the one event schema into Event.from_dict
