"""Who holds which role."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...domain.fold import IncidentState
from ...domain.model import ROLES
from ...domain.text import safe_text


def roles_text(state: IncidentState) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    extra = [r for r in state.roles if r not in ROLES and state.roles[r]]
    for i, role in enumerate((*ROLES, *extra)):
        holders = state.holders(role)
        if i:
            text.append("\n")
        # Roles outside the model are a team's own, named by whoever assigned them.
        text.append(f"{safe_text(role, 40, oneline=True):<10}", "bold")
        if holders:
            text.append(safe_text(", ".join(holders), 200, oneline=True))
        else:
            text.append("— unassigned", "dim italic")
    return text


class RolesPane(Static):
    DEFAULT_CSS = """
    RolesPane { height: auto; padding: 0 1; border-top: solid $primary-muted; border-title-color: $text-muted; }
    """

    def on_mount(self) -> None:
        self.border_title = "Roles (F6 assign)"

    def show(self, state: IncidentState) -> None:
        self.update(roles_text(state))
