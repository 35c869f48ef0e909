"""`/page USER [TEXT]`, the catalogue's worked example: one module, one test."""

from __future__ import annotations

import pytest

from incident_tui.docs import postmortem_document
from incident_tui.ui.completion import complete
from incident_tui.ui.describe import body, marker

from .test_command_language import NOW, RUNBOOKS, War


def test_page_records_who_was_paged_and_why_on_the_timeline_and_in_the_postmortem():
    war = War()
    (event,) = war.do("/page dbonc replica lag past 30 s #db", who="alice")
    assert (event.kind, event.data) == ("page", {"user": "dbonc", "text": "replica lag past 30 s #db", "tags": ["db"]})
    assert (marker(event), body(event)) == ("PAGE", "paged dbonc: replica lag past 30 s #db")
    assert "dbonc" in war.state.people  # offered by completion from now on
    assert complete("/assign sme db", war.state)[0] == "/assign sme dbonc "
    assert "Paged dbonc: replica lag past 30 s" in postmortem_document(war.state, RUNBOOKS, NOW)
    (bare,) = war.do("/page carol")
    assert bare.data == {"user": "carol"} and body(bare) == "paged carol"


@pytest.mark.parametrize("line", ["/page", "/page bad!name why"])
def test_page_without_a_user_name_is_refused_and_writes_nothing(line):
    war = War()
    message = war.refused(line)
    assert "/page USER [TEXT]" in message
