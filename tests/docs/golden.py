"""Golden files: compared byte for byte; `UPDATE_GOLDEN=1` rewrites them, after which
they are read and reviewed like code (git diff) before being committed."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file (UPDATE_GOLDEN=1 to rewrite, then review)"


def section(markdown: str, heading: str) -> str:
    """The body of the `## heading` section (up to the next `## ` or the footer rule)."""
    lines = markdown.split("\n")
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ") or lines[i] == "---"), len(lines))
    return "\n".join(lines[start:end]).strip("\n")
