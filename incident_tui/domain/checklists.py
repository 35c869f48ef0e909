"""Per-phase checklists: the package's runbook files, or a team's own folder of them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .model import PHASES


class RunbookError(ValueError):
    """A runbook file that cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: str
    text: str


Runbooks = dict[str, tuple[ChecklistItem, ...]]


def _parse(name: str, raw: bytes) -> tuple[str, tuple[ChecklistItem, ...]]:
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RunbookError(f"{name}: not valid TOML: {exc}") from None
    phase = doc.get("phase", Path(name).stem)
    if phase not in PHASES:
        raise RunbookError(f"{name}: unknown phase {phase!r}; phases are {', '.join(PHASES)}")
    items = []
    seen: set[str] = set()
    for i, raw_item in enumerate(doc.get("items", []), 1):
        if isinstance(raw_item, str):
            raw_item = {"id": f"item-{i}", "text": raw_item}
        if not isinstance(raw_item, dict) or not isinstance(raw_item.get("text"), str):
            raise RunbookError(f"{name}: item {i} needs a text")
        item_id = str(raw_item.get("id") or f"item-{i}")
        if item_id in seen:
            raise RunbookError(f"{name}: item id {item_id!r} appears twice")
        seen.add(item_id)
        items.append(ChecklistItem(item_id, raw_item["text"]))
    return phase, tuple(items)


def default_runbooks() -> Runbooks:
    books: Runbooks = {p: () for p in PHASES}
    pkg = resources.files("incident_tui") / "runbooks"
    for entry in pkg.iterdir():
        if entry.name.endswith(".toml"):
            phase, items = _parse(entry.name, entry.read_bytes())
            books[phase] = items
    return books


def load_runbooks(folder: str | Path | None = None) -> Runbooks:
    """The defaults, with each phase a team's folder has a `<phase>.toml` for replaced."""
    books = default_runbooks()
    if folder is None:
        return books
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise RunbookError(f"{path}: runbook folder does not exist")
    for f in sorted(path.glob("*.toml")):
        phase, items = _parse(str(f), f.read_bytes())
        books[phase] = items
    return books
