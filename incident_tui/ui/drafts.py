"""Unsent command-bar lines, kept on disk so that nothing typed is lost.

Decision: a line still in the bar when the app exits (ctrl+q, SIGHUP, a crash) is NOT
logged as a note: a half-typed `/sev 1` is not a fact. It is saved as a draft file in
the data dir (one per person, store and incident, written within a fraction of a second
of each keystroke and again on exit) and put back in that incident's command bar on the next
start, with a notice. A line is removed from the drafts once the store acknowledged it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..store.files import read_regular, replace_file


class DraftBox:
    """Drafts of one person on one store. Per person, not per OS account: the SSH war room
    serves everyone from one account and one data dir, and alice's half-typed line must not
    replace bob's. The app scopes the box it is given to its own user (`for_user`)."""

    def __init__(self, folder: Path, store_location: str, user: str = "") -> None:
        self.folder = folder
        self.store_location = store_location
        self.user = user
        key = f"{user}\0{store_location}" if user else store_location
        self._prefix = hashlib.sha1(key.encode()).hexdigest()[:10]

    def for_user(self, user: str) -> DraftBox:
        return self if user == self.user else DraftBox(self.folder, self.store_location, user)

    def _path(self, incident: str) -> Path:
        safe = "".join(c for c in incident if c.isalnum() or c == "-")[:64]
        return self.folder / f"{self._prefix}-{safe}.txt"

    def save(self, incident: str, text: str) -> None:
        path = self._path(incident)
        if not text.strip():
            path.unlink(missing_ok=True)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        replace_file(path, text.encode("utf-8"), durable=False)  # saved at every pause in typing: no fsync

    def load(self, incident: str) -> str:
        try:
            return read_regular(self._path(incident)).decode("utf-8")  # never blocking on a FIFO
        except (OSError, UnicodeDecodeError):
            return ""

    def incidents(self) -> list[str]:
        """Incident ids with a saved draft for this store."""
        if not self.folder.is_dir():
            return []
        n = len(self._prefix) + 1
        return [p.stem[n:] for p in self.folder.glob(f"{self._prefix}-*.txt")]
