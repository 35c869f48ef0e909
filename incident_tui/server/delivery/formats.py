"""Message bodies per destination format (SPEC 11) and Standard Webhooks signing.

- slack: `{"text", "blocks"}`; `text` is the notification fallback. Mattermost takes the
  same body, Discord too at its webhook URL + `/slack`.
- teams: a Workflows webhook body, one Adaptive Card attachment (the old O365
  connectors are retired).
- webhook: `{"type", "timestamp", "data"}` (the Standard Webhooks payload shape), with the
  event and the incident's state; signed per Standard Webhooks when a secret is given.

Chat text carries user text (titles, updates): chat apps would turn `<!channel>`,
`@here` or `<@U123>` in it into pings, so it is neutralised here, not trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

import orjson

from ...domain.events import format_at
from ...domain.notices import Notice
from ...domain.text import safe_text

FORMATS = ("slack", "teams", "webhook")
ICONS = {
    "declared": "🚨",
    "severity": "⚠️",
    "phase": "🔁",
    "role": "👤",
    "update": "📣",
    "resolved": "✅",
    "reminder": "⏰",
}
MAX_FIELD = 2000  # a chat message is read, not archived: long user text is cut


def _chat(text: str) -> str:
    """User text for Slack/Teams: no pings, no links smuggled through mrkdwn, no controls."""
    t = safe_text(text)[:MAX_FIELD]
    # Slack's control sequences (<!here>, <@U1>, <url|label>) all start with `<`.
    t = t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A zero-width joiner after `@` keeps @here/@channel/@everyone from pinging in
    # Mattermost and Discord, which read them without brackets.
    return re.sub(r"@(?=\w)", "@\u2060", t)


def headline(n: Notice) -> str:
    f = n.facts
    return f"{ICONS.get(n.trigger, '')} {f.ref} [{f.severity}] {f.title}".strip()


def _details(n: Notice) -> list[tuple[str, str]]:
    f = n.facts
    return [
        ("Severity", f.severity),
        ("Phase", f.phase),
        ("Commander", f.commander or "nobody yet"),
    ]


def slack(n: Notice, join: str | None) -> dict[str, Any]:
    head = _chat(headline(n))
    change = _chat(n.change)
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{_chat(v)}"} for k, v in _details(n)]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{head}*\n{change}"}},
        {"type": "section", "fields": fields},
    ]
    if join:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Join: `{_chat(join)}`"}]})
    text = f"{head}: {change}"
    return {"text": text, "blocks": blocks}


def teams(n: Notice, join: str | None) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": safe_text(headline(n))[:MAX_FIELD], "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": safe_text(n.change)[:MAX_FIELD], "wrap": True},
        {"type": "FactSet", "facts": [{"title": k, "value": safe_text(v)[:MAX_FIELD]} for k, v in _details(n)]},
    ]
    if join:
        body.append({"type": "TextBlock", "text": f"Join: {safe_text(join)}", "wrap": True, "isSubtle": True})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def webhook(n: Notice, join: str | None) -> dict[str, Any]:
    f = n.facts
    return {
        "type": f"incident.{n.trigger}",
        "timestamp": format_at(n.event.when) if n.event else format_at(f.declared_at),
        "data": {
            "trigger": n.trigger,
            "change": n.change,
            "incident": {
                "id": f.id,
                "ref": f.ref,
                "title": f.title,
                "severity": f.severity,
                "phase": f.phase,
                "commander": f.commander,
                "declared_at": format_at(f.declared_at),
            },
            "event": n.event.to_dict() if n.event else None,
            "join": join,
        },
    }


RENDER = {"slack": slack, "teams": teams, "webhook": webhook}


def render(fmt: str, n: Notice, join: str | None) -> bytes:
    return orjson.dumps(RENDER[fmt](n, join))


def secret_key(secret: str) -> bytes:
    """`whsec_<base64>` -> the key bytes; raises ValueError on anything else."""
    if not secret.startswith("whsec_"):
        raise ValueError("a webhook secret looks like whsec_<base64>")
    try:
        key = base64.b64decode(secret[6:], validate=True)
    except ValueError:
        raise ValueError("the part after whsec_ is not base64") from None
    if len(key) < 16:
        raise ValueError("a webhook secret needs at least 16 bytes of key")
    return key


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (Standard Webhooks)."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()
