from __future__ import annotations

from datetime import timedelta

from incident_tui.docs import incident_metrics, postmortem_document
from incident_tui.domain.checklists import Runbooks

from .conftest import Script
from .golden import section

M = timedelta(minutes=1)


def scripted(script: Script) -> Script:
    """Declared 10:00 CET at SEV3; impact began 09:50 (back-dated /detected typed at 10:02);
    commander 10:04; SEV2 10:10; SEV1 10:20; mitigating 10:25; monitoring 10:40; SEV2 10:45;
    back to mitigating 10:50 and monitoring 10:55 (the first mitigation counts); resolved 11:00."""
    script.declare(severity="SEV3")
    script.add(-10, "detected", {"text": "Customer report via support"}, author="bob")
    script.add(4, "role.assigned", {"role": "commander", "user": "carol"})
    script.add(10, "severity.set", {"severity": "SEV2"})
    script.add(20, "severity.set", {"severity": "SEV1"})
    script.add(25, "phase.set", {"phase": "mitigating"})
    script.add(40, "phase.set", {"phase": "monitoring"})
    script.add(45, "severity.set", {"severity": "SEV2"})
    script.add(50, "phase.set", {"phase": "mitigating"})
    script.add(55, "phase.set", {"phase": "monitoring"})
    script.add(60, "phase.set", {"phase": "resolved"})
    script.add(70, "severity.set", {"severity": "SEV4"})  # a post-resolution downgrade adds no time
    return script


def test_metrics_of_a_scripted_incident_with_known_times(script: Script) -> None:
    m = incident_metrics(scripted(script).state, script.at(500))
    assert m.time_to_detect == 10 * M
    assert m.time_to_acknowledge == 4 * M
    assert m.time_to_mitigate == 40 * M
    assert m.time_to_resolve == 60 * M
    assert m.time_at_severity == {"SEV3": 10 * M, "SEV2": 10 * M + 15 * M, "SEV1": 25 * M, "SEV4": 0 * M}
    assert sum(m.time_at_severity.values(), timedelta(0)) == m.time_to_resolve
    assert m.peak_severity == "SEV1"


def test_postmortem_metrics_table_shows_the_scripted_values(script: Script, runbooks: Runbooks) -> None:
    md = postmortem_document(scripted(script).state, runbooks, script.at(500))
    metrics = section(md, "## Metrics")
    assert metrics.split("\n")[:6] == [
        "| Metric | From impact start | From declaration | Measured |",
        "|---|---|---|---|",
        "| Time to detect | 10m | — | impact began 09:50:00 → declared 10:00:00 |",
        "| Time to acknowledge | 14m | 4m | → first commander (carol) 10:04:00 |",
        "| Time to mitigate | 50m | 40m | → monitoring 10:40:00 |",
        "| Time to resolve | 1h 10m | 1h 00m | → resolved 11:00:00 |",
    ]
    assert (
        "### Time at each severity (declared → resolved)\n\n| Severity | Time | Share |\n|---|---|---|\n"
        "| SEV3 | 10m | 17% |\n| SEV2 | 25m | 42% |\n| SEV1 | 25m | 42% |\n| SEV4 | 0s | 0% |"
    ) in metrics
    story = "SEV1 at peak (declared SEV3, escalated to SEV2 at 10:10:00, escalated to SEV1 at 10:20:00,"
    assert f"- **Severity:** {story} downgraded to SEV2 at 10:45:00, downgraded to SEV4 at 11:10:00)" in md
    assert (
        "- **Impact window:** from 2026-03-02 09:50:00 CET (impact began) to 2026-03-02 10:40:00 CET"
        " (mitigated, 50m) and 2026-03-02 11:00:00 CET (resolved, 1h 10m)." in md
    )
    assert (
        "- **Detected:** Customer report via support; declared 2026-03-02 10:00:00 CET, 10m after impact began." in md
    )


def test_unresolved_incident_counts_severity_time_until_now_and_leaves_the_rest_open(script: Script) -> None:
    script.declare(severity="SEV2")
    script.add(5, "severity.set", {"severity": "SEV1"})
    m = incident_metrics(script.state, script.at(30))
    assert (m.time_to_detect, m.time_to_acknowledge, m.time_to_mitigate, m.time_to_resolve) == (None,) * 4
    assert m.time_at_severity == {"SEV2": 5 * M, "SEV1": 25 * M}


def test_detected_logged_after_declaration_is_not_a_time_to_detect(script: Script, runbooks: Runbooks) -> None:
    script.declare()
    script.add(3, "detected", {"text": "Alert from synthetic checks"})
    state = script.state
    assert incident_metrics(state, script.at(10)).time_to_detect is None
    md = postmortem_document(state, runbooks, script.at(10))
    assert (
        "| Time to detect | _impact start unknown_ | — | needs a `/detected` entry back-dated (`@HH:MM`)"
        " to when impact began |" in md
    )
    assert "- **Detected:** Alert from synthetic checks; declared 2026-03-02 10:00:00 CET." in md


def test_back_dated_severity_change_before_declaration_is_clipped(script: Script) -> None:
    script.declare(severity="SEV3")
    script.add(-30, "severity.set", {"severity": "SEV1"})  # typed late, dated before the declaration
    script.add(20, "phase.set", {"phase": "resolved"})
    m = incident_metrics(script.state, script.at(60))
    assert m.time_at_severity == {"SEV3": 0 * M, "SEV1": 20 * M}
