"""The command and event-kind catalogue holds together: every kind of the model has a row in
every table keyed by kind, every command is listed where people read the command language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from incident_tui.docs.postmortem import TIMELINE_ROWS
from incident_tui.domain.commands import ALIASES, COMMANDS, FOLDS, Arg
from incident_tui.domain.model import KIND_FIELDS, KINDS
from incident_tui.ui.completion import complete
from incident_tui.ui.describe import KIND_VIEWS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "incident_tui"


@pytest.mark.parametrize("table", [KIND_VIEWS, TIMELINE_ROWS], ids=["ui.describe.KIND_VIEWS", "docs.TIMELINE_ROWS"])
def test_every_kind_of_the_model_has_a_row_in_every_presentation_table(table):
    assert sorted(KINDS - set(table)) == []
    assert sorted(set(table) - KINDS) == [], "a row for a kind the model does not know"


def test_every_kind_has_its_fields_declared():
    assert sorted(KINDS - set(KIND_FIELDS)) == []


def test_the_commands_write_and_fold_only_kinds_of_the_model():
    for spec in COMMANDS.values():
        assert spec.writes, f"/{spec.name} declares no kind it writes"
        assert set(spec.writes) <= KINDS, f"/{spec.name} writes a kind the model does not know"
    assert set(FOLDS) <= KINDS


def test_names_and_aliases_are_unique_lowercase_words():
    names = list(COMMANDS) + list(ALIASES)
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z]+", name), name


def test_every_command_has_usage_help_and_argument_kinds():
    for spec in COMMANDS.values():
        assert spec.usage.split()[0] == f"/{spec.name}"
        assert spec.help and "\n" not in spec.help
        assert all(isinstance(a, Arg) for a in spec.args)


def test_the_readme_command_table_names_every_command():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The command language") :]
    section = section[: section.index("\n## ", 1)]
    missing = [name for name in COMMANDS if f"`/{name}" not in section]
    assert missing == []


def test_log_help_lists_every_command(capsys):
    from incident_tui.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["log", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for spec in COMMANDS.values():
        assert spec.usage in out


def test_completion_offers_every_command():
    _, found = complete("/", None)
    assert found == ["/" + name for name in COMMANDS]
