"""A real public postmortem replayed through the CLI as its scribe and commander typed it
(examples/replay-gitlab-2017-01-31.txt), and the draft it gives (a reviewed golden file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from incident_tui.cli import main

from .conftest import set_tz
from .golden import check_golden, section

REPLAY = Path(__file__).parents[2] / "examples" / "replay-gitlab-2017-01-31.txt"


def replay(store: Path, capsys: pytest.CaptureFixture[str]) -> str:
    ref = ""
    for raw in REPLAY.read_text(encoding="utf-8").splitlines():
        if not raw or raw.startswith("#"):
            continue
        who, line = raw.split("\t", 1)
        base = ["--store", str(store), "--user", who]
        if line.startswith("declare\t"):
            _, when, sev, title = line.split("\t")
            assert main([*base, "declare", title, "--severity", sev, "--at", when]) == 0
            ref = capsys.readouterr().out.strip()
            continue
        assert main([*base, "log", ref, line]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["--store", str(store), "postmortem", ref]) == 0
    return capsys.readouterr().out


def test_gitlab_2017_replay_gives_the_reviewed_draft(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_tz(monkeypatch, "UTC")  # the published document is in UTC, and so are the replay's times
    md = replay(tmp_path / "gitlab.jsonl", capsys)
    # The one line that depends on when the test runs.
    md = re.sub(r"generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "generated <now>", md)
    check_golden("gitlab_2017_postmortem.md", md)
    summary = section(md, "## Summary")
    assert summary.startswith(
        "- **Impact window:** from 2017-01-31 23:27:00 UTC (impact began) to 2017-02-01 18:00:00 UTC"
        " (mitigated, 18h 33m)"
    )
    timeline = section(md, "## Timeline")
    # The note that saved the day is in the timeline, first, with its date.
    assert timeline.split("\n")[4].startswith("| 2017-01-31 17:20:00 | team-member-1 takes an LVM snapshot")
    assert "| 2017-02-01 00:00:00 | Hypothesis H3" in timeline
    rc = section(md, "## Root cause and resolution")
    assert "### Five whys: impact" in rc and "### Five whys: recovery" in rc
    restored = rc.split("### What restored service\n\n")[1].split("\n\n")[0]
    assert "rm -Rvf" not in restored and "Restored the production database" in restored
