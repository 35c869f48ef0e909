"""User text is data: nothing typed into an incident may change a document's structure."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from incident_tui.docs import postmortem_document, snapshot_document
from incident_tui.docs.markdown import WJ, inline
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
    "@team @everyone @here please look",
    "see #1105 and gitlab-org/gitlab#42",
    "https://gitlab.com/gitlab-com/infrastructure/issues/1105",
    "[^1] footnote and [^1]: defined",
    "- [ ] a task",
    "www.evil.example and evil.example/x",
    "javascript:alert(1)",
    "~300 GB -> 4.5 GB via pg_dump",
    "https://x.example/a|b) <https://y.example/>",
]

# GitHub-flavoured: tables, strikethrough and bare-URL links on top of CommonMark, with
# task lists and footnotes, as GitHub and GitLab render a pasted document.
MD = MarkdownIt("gfm-like").use(tasklists_plugin).use(footnote_plugin)


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
    # The second pass's fields (SPEC 9): every one takes user text.
    for i in range(len(HOSTILE)):
        s.add(4 + i / 10, "mitigation", {"text": text(i)}, author=text(i + 2))
        s.add(4 + i / 10, "note", {"text": text(i)})
        s.add(23, "dataloss", {"text": text(i)})
        s.add(23, "background", {"text": text(i)})
        s.add(23, "why", {"text": text(i), "chain": text(i + 3)})
        s.add(23, "lesson", {"text": text(i), "lesson": ("well", "wrong", "lucky")[i % 3]})
    s.add(24, "followup", {"text": text(30), "owner": text(29), "link": text(31)})
    s.add(24, "followup", {"text": text(31), "link": text(37)})
    s.add(25, "followup.link", {"number": 1, "url": text(35)})
    s.add(26, "snapshot", {"at_seq": 20, "from": text(1), "to": text(30)})
    s.add(27, "note", {"text": text(32)})
    return s


def hostile(i: int) -> str:
    return HOSTILE[i % len(HOSTILE)]


def benign(i: int) -> str:
    return f"plain{i}"


def _web_link(tok: object) -> bool:
    href = str(getattr(tok, "attrs", {}).get("href", ""))
    return href.startswith(("http://", "https://"))


def structure(markdown: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Block tokens, and inside each inline the kinds of its children except plain text
    and web links (URLs typed into an entry stay links, by design; nothing else may)."""
    out = []
    for tok in MD.parse(markdown):
        kids = []
        web = False
        for c in tok.children or ():
            if c.type == "link_open" and _web_link(c):
                web = True
                continue
            if c.type == "link_close" and web:
                web = False
                continue
            if c.type != "text":
                kids.append(c.type)
        out.append((tok.type, tok.tag, tuple(kids)))
    return out


def plain_texts(markdown: str) -> list[str]:
    """What a reader sees: the text of every inline run (word joiners are invisible)."""
    return [
        "".join(c.content for c in tok.children or () if c.type == "text").replace(WJ, "")
        for tok in MD.parse(markdown)
        if tok.children
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
            rows[-1].append("".join(c.content for c in tok.children or () if c.type == "text").replace(WJ, ""))
    return rows


def test_timeline_cells_hold_the_text_and_author_as_typed(runbooks: Runbooks) -> None:
    md = documents(build(hostile), runbooks)["postmortem"]
    rows = table_rows(md)
    shown = lambda i: safe_text(hostile(i), oneline=True).strip()  # noqa: E731
    for i in range(len(HOSTILE)):
        assert ["", "Observation: " + shown(i), shown(i + 1)] in [["", *r[1:]] for r in rows], HOSTILE[i]
    followups = [r for r in rows if r and r[0] == "F1"]
    assert followups == [["F1", shown(1), shown(2), shown(3), shown(35)]]  # not a URL: shown as text
    assert [r for r in rows if r and r[0] == "F3"] == [["F3", shown(30), shown(29), "no due date", shown(31)]]


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
        "link": HOSTILE[35],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# pwned", "\\# pwned"),
        ("| a | b |", "\\| a \\| b \\|"),
        ("<script>", "\\<script>"),
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


MENTION = re.compile(r"(?<![0-9A-Za-z_.+\-])@[0-9A-Za-z_]")
REFERENCE = re.compile(r"#[0-9]")


@pytest.mark.parametrize("doc", ["postmortem", "snapshot", "snapshot mid"])
def test_a_pasted_document_pings_nobody_and_references_no_issue(runbooks: Runbooks, doc: str) -> None:
    md = documents(build(hostile), runbooks)[doc]
    for tok in MD.parse(md):
        for c in tok.children or ():
            if c.type == "text":
                assert not MENTION.search(c.content), c.content
                assert not REFERENCE.search(c.content), c.content
    # What the reader sees is what was typed: the joiner is invisible.
    assert doc == "snapshot mid" or any("@team @everyone @here please look" in t for t in plain_texts(md))


def test_urls_stay_links_and_no_other_link_is_made(runbooks: Runbooks) -> None:
    md = documents(build(hostile), runbooks)["postmortem"]
    hrefs = [c.attrs["href"] for tok in MD.parse(md) for c in tok.children or () if c.type == "link_open"]
    assert "https://gitlab.com/gitlab-com/infrastructure/issues/1105" in hrefs
    assert {"https://x.example/a", "https://y.example/"} <= set(hrefs)  # a URL ends at `|` (a cell's edge)
    assert all(h.startswith(("http://", "https://")) for h in hrefs), [h for h in hrefs if "http" not in h[:5]]
    assert not [tok for tok in MD.parse(md) if tok.type in ("html_block", "footnote_block", "code_block", "fence")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("~300 GB -> 4.5 GB", "~300 GB -> 4.5 GB"),
        ("pg_dump and pg_basebackup", "pg_dump and pg_basebackup"),
        ("_em_ and ~~strike~~", "\\_em\\_ and ~\\~strike\\~\\~"),
        ("@team look", f"@{WJ}team look"),
        ("mail bob@example.com", "mail bob@example.com"),
        ("fix #1105", f"fix #{WJ}1105"),
        ("#db at the start", "#db at the start"),
        ("# heading", "\\# heading"),
        ("-> up", "-> up"),
        ("2026-01-31 outage", "2026-01-31 outage"),
        ("see https://example.com/a_b_(c).", "see <https://example.com/a_b_(c)>."),
    ],
)
def test_inline_leaves_what_cannot_change_structure_as_typed(text: str, expected: str) -> None:
    assert inline(text) == expected


# What the timeline's own fast path (postmortem._timeline_rows) must agree with `inline` on:
# Markdown's characters, block starts, spaces at either end, controls in and out of ASCII.
_ROW_ALPHABET = list("ab #1@_*[]<|~&`\\>+-=0 :/.\t\n\r\x00\x1b\x7f\x85\x9b\u00e9\u202e\u2028\u3000")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(_ROW_ALPHABET), max_size=14))
def test_a_timeline_row_shows_its_text_as_inline_does(runbooks: Runbooks, text: str) -> None:
    s = Script()
    s.declare()
    s.add(1, "obs", {"text": text})
    s.add(2, "note", {"text": text}, "bob")
    md = postmortem_document(s.state, runbooks, s.at(3))
    assert f" | Observation: {inline(text)} | alice |\n" in md
    note = f" | {inline(text)} | bob |\n"
    # A note that escapes to nothing is left out, unless it was empty as typed.
    assert (note in md) == (bool(inline(text)) or text == "")
