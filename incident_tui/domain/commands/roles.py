"""Roles: `/assign ROLE USER`, `/release ROLE [USER]`."""

from __future__ import annotations

from datetime import datetime

from ..events import Event
from ..model import MULTI_ROLES, ROLES
from ..state import IncidentState, RoleChange, note_person
from ._base import Arg, CommandError, Invocation, command, folds, parse_role, parse_user


@command(
    "assign",
    "/assign ROLE USER",
    "give USER a role: " + ", ".join(ROLES),
    args=(Arg.ROLE, Arg.PERSON),
    writes=("role.assigned",),
    rank=100,
)
def _assign(inv: Invocation) -> list[Event]:
    parts = inv.args.split()
    if len(parts) != 2:
        raise CommandError(f"/assign needs a role and a user: {inv.usage}; roles: {', '.join(ROLES)}")
    role = parse_role(parts[0])
    user = parse_user(parts[1], inv.usage)
    if user in inv.state.holders(role):
        raise CommandError(f"{user} already holds {role}")
    return [inv.event("role.assigned", {"role": role, "user": user})]


@command(
    "release",
    "/release ROLE [USER]",
    "take a role back",
    args=(Arg.ROLE, Arg.PERSON),
    writes=("role.released",),
    rank=110,
)
def _release(inv: Invocation) -> list[Event]:
    parts = inv.args.split()
    if not 1 <= len(parts) <= 2:
        raise CommandError(f"/release needs a role: {inv.usage}")
    role = parse_role(parts[0])
    holders = inv.state.holders(role)
    if len(parts) == 2:
        user = parse_user(parts[1], inv.usage)
        if user not in holders:
            raise CommandError(f"{user} does not hold {role} (held by: {', '.join(holders) or 'nobody'})")
        return [inv.event("role.released", {"role": role, "user": user})]
    if not holders:
        raise CommandError(f"nobody holds {role}")
    if role in MULTI_ROLES and len(holders) > 1:
        raise CommandError(f"several people hold {role}: /release {role} USER ({', '.join(holders)})")
    return [inv.event("role.released", {"role": role, "user": holders[0]})]


@folds("role.assigned")
def _fold_assigned(state: IncidentState, e: Event, at: datetime) -> None:
    role, user = e.data["role"], e.data["user"]
    holders = state.roles.setdefault(role, [])
    if role in MULTI_ROLES:
        if user not in holders:
            holders.append(user)
    else:
        holders[:] = [user]
    if role == "commander" and state.commander_first_at is None:
        state.commander_first_at = at
    state.role_history.append(RoleChange(at, e.seq or 0, role, user, True, e.author))
    note_person(state, user)


@folds("role.released")
def _fold_released(state: IncidentState, e: Event, at: datetime) -> None:
    role = e.data["role"]
    user = e.data.get("user")
    holders = state.roles.get(role, [])
    gone = [h for h in holders if not user or h == user]
    holders[:] = [h for h in holders if h not in gone]
    for h in gone:
        state.role_history.append(RoleChange(at, e.seq or 0, role, h, False, e.author))
