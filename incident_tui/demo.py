"""A realistic demo incident, written through the command language like a real war room."""

from __future__ import annotations

from datetime import datetime, timedelta

from .domain.checklists import Runbooks
from .domain.commands import Command, declare_event, parse, to_events
from .domain.fold import Registry
from .domain.model import PHASES
from .store.base import Store

TITLE = "Checkout failing with 502s for EU customers"

# (minutes after declaration, author, line). Times are relative so the demo is always "the last hour".
SCRIPT: list[tuple[float, str, str]] = [
    (-6, "pagerbot", "/detected PagerDuty: checkout-api 5xx rate above 5% for 5 minutes #alert"),
    (0.5, "alice", "/assign commander alice"),
    (0.7, "alice", "/phase triage"),
    (1, "alice", "/assign scribe bob"),
    (1.2, "bob", "/check 2"),
    (1.3, "bob", "/check 1"),
    (2, "bob", "/obs Error rate on checkout-api at 38%, all EU regions; US normal #checkout"),
    (3, "alice", "/sev 1"),
    (3.1, "bob", "/check 3"),
    (3.5, "alice", "/category availability"),
    (3.6, "bob", "/check 4"),
    (4, "alice", "/impact EU customers cannot complete checkout; ~40% of EU orders failing"),
    (4.1, "bob", "/check 5"),
    (4.5, "alice", "/assign comms dave"),
    (4.6, "bob", "/check 6"),
    (5, "carol", "/obs DB connection pool on orders-db-eu saturated (500/500) #db"),
    (6, "alice", "/assign sme carol"),
    (6.5, "carol", "/hypothesis orders-db-eu primary is overloaded by a slow query #db"),
    (8, "dave", "/update We are investigating failed checkouts for EU customers. Next update in 30 min."),
    (8.1, "bob", "/check 7"),
    (9, "alice", "/phase mitigating"),
    (10, "carol", "/obs Slow query log is clean; primary CPU at 35% #db"),
    (11, "carol", "/reject H1 primary load is normal; pool exhaustion comes from the client side"),
    (12, "erin", "/obs checkout-api v2.41 deployed to EU 4 minutes before the alert #deploy"),
    (12.5, "alice", "/assign sme erin"),
    (13, "erin", "/hypothesis v2.41 leaks DB connections on the payment-retry path #deploy"),
    (14, "erin", "Connection count per pod climbs linearly since the deploy; no release of connections on retry"),
    (16, "alice", "/decision Roll back checkout-api EU to v2.40 instead of scaling the pool #rollback"),
    (16.5, "bob", "/check 1"),
    (17, "erin", "/action Started rollback of checkout-api EU to v2.40 #rollback"),
    (21, "erin", "/mitigate Rollback complete in eu-west-1 and eu-central-1 #rollback"),
    (22, "carol", "/obs Pool usage on orders-db-eu dropping: 180/500 #db"),
    (23, "erin", "/confirm H2 connections are released again after the rollback"),
    (24, "bob", "/check 2"),
    (24.2, "bob", "/check 3"),
    (24.4, "bob", "/check 5"),
    (25, "alice", "/phase monitoring"),
    (26, "bob", "/obs Checkout error rate 0.4%, back to baseline #checkout"),
    (30, "dave", "/update A fix is in: checkout errors for EU customers are back to normal. Monitoring."),
    (31, "bob", "/check 1"),
    (32, "dave", "/obs Support confirms no new checkout tickets since the rollback"),
    (32.5, "bob", "/check 2"),
    (45, "bob", "/obs 15 minutes without recurrence; pool steady at 90/500"),
    (45.5, "bob", "/check 3"),
    (46, "bob", "/check 4"),
    (48, "alice", "/resolve"),
    (50, "dave", "/update Resolved: checkout for EU customers has been working normally for 25 minutes."),
    (52, "alice", "/rootcause v2.41 did not return DB connections to the pool on the payment-retry path"),
    (53, "alice", "/why Checkout failed because orders-db-eu refused new connections"),
    (53.5, "alice", "/why The pool was exhausted by connections leaked on payment retries"),
    (54, "alice", "/why The retry path opened its own connection and never closed it"),
    (54.5, "alice", "/why The leak only shows under retry load, which staging never produces"),
    (55, "alice", "/why We have no alert on pool saturation, only on checkout errors"),
    (57, "alice", "/followup Add an alert on DB pool saturation above 80% @carol due:2026-12-11 #alerting"),
    (58, "alice", "/followup Close connections in payment-retry and add a leak test @erin due:2026-12-04"),
    (59, "alice", "/followup Load-test the retry path in staging before EU deploys @erin"),
    (60, "alice", "/followup Canary EU deploys for 30 minutes before full rollout"),
]


def write_demo(
    store: Store,
    runbooks: Runbooks,
    now: datetime | None = None,
    until: str | None = None,
) -> str:
    """Write the demo incident; `until` stops once that phase is entered. Returns its uuid."""
    if until is not None and until not in PHASES:
        raise ValueError(f"unknown phase {until!r}")
    end = (now or datetime.now().astimezone()).astimezone()
    t0 = end - timedelta(minutes=62)
    declared = declare_event(
        TITLE,
        author="alice",
        severity="SEV2",
        summary="Customers in the EU see 502 errors at the payment step of checkout.",
        at=t0,
    )
    (stored,) = store.append([declared])
    reg = Registry()
    state = reg.apply(stored)
    assert state is not None
    for minute, who, line in SCRIPT:
        parsed = parse(line, end)
        cmd = Command(parsed.name, parsed.args, t0 + timedelta(minutes=minute))
        events = to_events(cmd, state, who, runbooks)
        for e in store.append(events):
            reg.apply(e)
        if until is not None and state.phase == until:
            break
    return declared.incident
