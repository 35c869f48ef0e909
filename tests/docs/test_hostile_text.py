"""User text is data: nothing typed into an incident may change a document's structure."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from markdown_it import MarkdownIt

from incident_tui.docs import postmortem_document, snapshot_document
from incident_tui.docs.markdown import inline
from incident_tui.domain.checklists import Runbooks
from incident_tui.domain.text import safe_text

from .conftest import Script

HOSTILE = [
    "# pwned",
    "| a | b |",
    "<script>alert(1)</script>",
    "---",
    "```python\nimport os\n```",
    "`rm -rf /`",
    "line one\n## injected heading\n\n| x | y |\n|---|---|\n| 1 | 2 |",
    "\x1b]52;c;cHduZWQ=\x07\x1b[2J\x9b31m red",
    "[click](javascript:alert(1)) ![img](http://x/y.png)",
    "**bold** _em_ ~~strike~~ *it*",
    "1. ordered",
    "> quote",
    "    indented code",
    "&lt;b&gt; &#60;i&#62;",
    "<!-- hide the rest",
    "closing hashes ##",
    "\u202eevil\u202c\u2028",
    "===",
    "- item",
    "+ item",
    "trailing backslash \\",
    "a\r\nb",
    "<http://evil.example>",
    "[ref]: http://evil.example",
    "2) second",
    "*",
    "\\# already escaped",
    "\t\ttabbed",
    "<details><summary>x</summary>",
]

# GitHub-flavoured: tables and strikethrough on top of CommonMark, as most viewers render.
MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def build(text: Callable[[int], str]) -> Script:
    """One incident that puts `text(i)` into every place user text can reach a document."""
    s = Script()
    s.declare(title=text(0) + " " + text(1), severity="SEV2", summary=text(6))
    s.add(-5, "detected", {"text": text(0)}, author=text(5))
    s.add(1, "role.assigned", {"role": "commander", "user": text(1)})
    s.add(1, "role.assigned", {"role": "scribe", "user": text(2)})
    s.add(1, "role.assigned", {"role": "sme", "user": text(3)})
    s.add(1, "role.assigned", {"role": text(4), "user": "mallory"})
    s.add(2, "category.set", {"value": text(1)})
    s.add(2, "impact.set", {"value": text(6)})
    for i in range(len(HOSTILE)):
        s.add(3 + i / 10, "obs", {"text": text(i)}, author=text((i + 1) % len(HOSTILE)))
        s.add(3 + i / 10, "decision", {"text": text(i)})
        s.add(3 + i / 10, "action", {"text": text(i)})
    s.add(10, "hypothesis", {"text": text(9)})
    s.add(11, "hypothesis.rejected", {"number": 1, "text": text(2)})
    s.add(12, "hypothesis", {"text": text(4)})
    s.add(13, "update", {"text": text(6)}, author=text(7))
    s.add(14, "hypothesis", {"text": text(10)})
    s.add(15, "followup", {"text": text(1), "owner": text(2), "due": text(3)})
    s.add(15, "followup", {"text": text(15)})
    s.add(16, "phase.set", {"phase": "mitigating"})
    s.add(17, "hypothesis.confirmed", {"number": 2, "text": text(5)})
    s.add(18, "phase.set", {"phase": "monitoring"})
    s.add(19, "phase.set", {"phase": "resolved"})
    s.add(20, "rootcause", {"text": text(6)})
    for i in (0, 3, 7, 12, 24):
        s.add(21, "why", {"text": text(i)})
    s.add(22, "followup.done", {"number": 2})
    return s


def hostile(i: int) -> str:
    return HOSTILE[i % len(HOSTILE)]


def benign(i: int) -> str:
    return f"plain{i}"


def structure(markdown: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Block tokens, and inside each inline the kinds of its children except plain text."""
    out = []
    for tok in MD.parse(markdown):
        kids = tuple(c.type for c in tok.children or () if c.type != "text")
        out.append((tok.type, tok.tag, kids))
    return out


def plain_texts(markdown: str) -> list[str]:
    """What a reader sees: the text of every inline run."""
    return [
        "".join(c.content for c in tok.children or () if c.type == "text") for tok in MD.parse(markdown) if tok.children
    ]


def documents(script: Script, runbooks: Runbooks) -> dict[str, str]:
    now = script.at(30)
    return {
        "postmortem": postmortem_document(script.state, runbooks, now),
        "snapshot": snapshot_document(script.events, script.incident, runbooks, now, "md", None),
        "snapshot mid": snapshot_document(script.events, script.incident, runbooks, now, "md", 60),
    }


@pytest.mark.parametrize("doc", ["postmortem", "snapshot", "snapshot mid"])
def test_hostile_text_leaves_the_document_structure_as_plain_text_would(runbooks: Runbooks, doc: str) -> None:
    evil = documents(build(hostile), runbooks)[doc]
    calm = documents(build(benign), runbooks)[doc]
    assert structure(evil) == structure(calm)


def test_hostile_text_is_shown_as_typed_inside_its_own_line(runbooks: Runbooks) -> None:
    md = documents(build(hostile), runbooks)["postmortem"]
    seen = plain_texts(md)
    for h in HOSTILE:
        # Controls are made visible and newlines become ⏎; everything else reads as typed.
        shown = safe_text(h, oneline=True).strip()
        assert any(shown in text for text in seen), h
        row = f"Observation: {inline(h)} |"
        assert sum(1 for line in md.split("\n") if row in line) == 1, h


def test_no_control_character_reaches_a_document(runbooks: Runbooks) -> None:
    script = build(hostile)
    docs = documents(script, runbooks)
    docs["json"] = snapshot_document(script.events, script.incident, runbooks, script.at(30), "json", None)
    for name, text in docs.items():
        bad = [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u202c\u2028"]
        assert not bad, (name, bad[:5])
        assert "\r" not in text


def table_rows(markdown: str) -> list[list[str]]:
    """Every table row as the text a reader sees in each cell."""
    rows: list[list[str]] = []
    in_row = False
    for tok in MD.parse(markdown):
        if tok.type == "tr_open":
            rows.append([])
            in_row = True
        elif tok.type == "tr_close":
            in_row = False
        elif tok.type == "inline" and in_row:
            rows[-1].append("".join(c.content for c in tok.children or () if c.type == "text"))
    return rows


def test_timeline_cells_hold_the_text_and_author_as_typed(runbooks: Runbooks) -> None:
    md = documents(build(hostile), runbooks)["postmortem"]
    rows = table_rows(md)
    shown = lambda i: safe_text(hostile(i), oneline=True).strip()  # noqa: E731
    for i in range(len(HOSTILE)):
        assert ["", "Observation: " + shown(i), shown(i + 1)] in [["", *r[1:]] for r in rows], HOSTILE[i]
    followups = [r for r in rows if r and r[0] == "F1"]
    assert followups == [["F1", shown(1), shown(2), shown(3)]]


def test_snapshot_json_keeps_user_text_exactly_as_typed(runbooks: Runbooks) -> None:
    script = build(hostile)
    d = json.loads(snapshot_document(script.events, script.incident, runbooks, script.at(30), "json", None))
    assert d["title"] == HOSTILE[0] + " " + HOSTILE[1]
    assert d["roles"]["commander"] == [HOSTILE[1]]
    assert d["followups_open"][0] == {
        "ref": "F1",
        "text": HOSTILE[1],
        "owner": HOSTILE[2],
        "due": HOSTILE[3],
        "author": "alice",
        "at": d["followups_open"][0]["at"],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# pwned", "\\# pwned"),
        ("| a | b |", "\\| a \\| b \\|"),
        ("<script>", "\\<script\\>"),
        ("---", "\\---"),
        ("1. one", "1\\. one"),
        ("`x`", "\\`x\\`"),
        ("a\nb", "a ⏎ b"),
        ("\x1b[31m", "␛\\[31m"),
        ("R&D &amp;", "R&D \\&amp;"),
        ("title #", "title \\#"),
        ("tags #db stay", "tags #db stay"),
        ("  spaced  ", "spaced"),
    ],
)
def test_inline_escapes_only_what_markdown_would_read(text: str, expected: str) -> None:
    assert inline(text) == expected


def test_snapshot_json_escapes_terminal_controls_but_keeps_the_value(runbooks: Runbooks) -> None:
    nasty = "a\x1b[2Jb\x9b31mc\x7f\u202ed\u2028e\x00"
    s = Script()
    s.declare(title=nasty, severity="SEV2", summary=nasty)
    s.add(1, "decision", {"text": nasty})
    text = snapshot_document(s.events, s.incident, runbooks, s.at(5), "json", None)
    assert not [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u2028"]
    d = json.loads(text)
    assert d["title"] == d["summary"] == d["decisions"][0]["text"] == nasty
