"""Runbook items with a `when` condition tick themselves as the incident's state meets it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from incident_tui.cli import main
from incident_tui.domain.checklists import RunbookError, item_status, load_runbooks
from incident_tui.domain.commands import declare_event, to_events
from incident_tui.domain.fold import Registry
from incident_tui.domain.serialize import checklist_view
from incident_tui.store.memory import MemoryStore

RUNBOOKS = load_runbooks()
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=timezone(timedelta(hours=1)))


def _war():
    store, reg = MemoryStore(), Registry()
    reg.extend(store.append([declare_event("Checkout down", "alice", at=NOW - timedelta(hours=1))]))
    state = reg.order[0]

    def do(line: str) -> None:
        reg.extend(store.append(to_events(line, state, "alice", RUNBOOKS, now=NOW)))

    return state, do


def test_triage_checklist_ticks_itself_as_roles_and_fields_are_set() -> None:
    state, do = _war()
    do("/phase triage")
    assert [i["done"] for i in checklist_view(state, RUNBOOKS)] == [False] * 7
    lines = [
        "/assign commander alice",
        "/assign scribe bob",
        "/sev 2",
        "/category data",
        "/impact EU checkout failing",
        "/assign comms carol",
        "/update investigating",
    ]
    for n, line in enumerate(lines, 1):
        do(line)
        view = checklist_view(state, RUNBOOKS)
        assert [i["done"] for i in view] == [True] * n + [False] * (7 - n), line
        assert view[n - 1]["automatic"] is True and view[n - 1]["by"] is None
    # Released again: the item is open again (it follows the state, it is not a one-off tick).
    do("/release scribe")
    assert checklist_view(state, RUNBOOKS)[1]["done"] is False


def test_default_severity_is_not_a_choice_but_a_declared_one_is() -> None:
    state, do = _war()
    item = next(i for i in RUNBOOKS["triage"] if i.when == "severity")
    assert not item_status(state, "triage", item).done
    do("/phase triage")
    do("/check 3")  # keeping the default is a choice only a person can tick
    st = item_status(state, "triage", item)
    assert st.done and not st.auto and st.mark is not None
    do("/sev 2")
    assert item_status(state, "triage", item).auto
    declared = Registry()
    declared.extend([declare_event("Payments down", "alice", "SEV1", at=NOW)])
    assert item_status(declared.order[0], "triage", item).auto


def test_manual_ticks_still_work_on_items_without_a_condition() -> None:
    state, do = _war()
    do("/check 1")
    (first, *_) = checklist_view(state, RUNBOOKS)
    assert first["done"] and not first["automatic"] and first["by"] == "alice"


def test_update_in_this_phase_means_since_the_phase_began() -> None:
    state, do = _war()
    do("@14:10 /update investigating")
    do("@14:20 /phase monitoring")
    watch = next(i for i in RUNBOOKS["monitoring"] if i.when == "update:phase")
    assert not item_status(state, "monitoring", watch).done
    do("@14:30 /update fix is in, watching")
    assert item_status(state, "monitoring", watch).auto


def test_a_runbook_with_an_unknown_condition_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "triage.toml").write_text('items = [{ id = "a", text = "A", when = "role:pilot" }]\n')
    with pytest.raises(RunbookError, match=r"triage.toml: item 'a' has an unknown condition 'role:pilot'"):
        load_runbooks(tmp_path)


def test_show_json_reports_an_automatic_item_as_done(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path / "s.jsonl"), "--user", "alice"]
    assert main([*store, "declare", "Checkout down"]) == 0
    for line in ("/phase triage", "/assign commander alice"):
        assert main([*store, "log", "1", line]) == 0
    capsys.readouterr()
    assert main([*store, "show", "1", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["checklist"][0]
    assert (first["id"], first["done"], first["automatic"], first["when"]) == (
        "assign-ic",
        True,
        True,
        "role:commander",
    )
    assert main([*store, "show", "1"]) == 0
    assert "[x] 1. Assign an incident commander (/assign commander NAME)  (automatic)" in capsys.readouterr().out
    assert main([*store, "snapshot", "1", "--format", "json"]) == 0
    done = json.loads(capsys.readouterr().out)["checklist"]["done_items"]
    assert done == [
        {
            "n": 1,
            "id": "assign-ic",
            "text": "Assign an incident commander (/assign commander NAME)",
            "automatic": True,
            "by": None,
        }
    ]


def test_every_cli_option_has_help_and_each_command_lists_only_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from incident_tui.cli import build_parser

    parser = build_parser()
    (verbs,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in [("incident-tui", parser), *verbs.choices.items()]:
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction) or action.dest == "help":
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    with pytest.raises(SystemExit):
        main(["show", "--help"])
    shown = capsys.readouterr().out
    assert "--json" in shown and "--theme NAME" not in shown and "--remote URL" not in shown
