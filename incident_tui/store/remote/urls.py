"""Where the API lives on a server, from what the user typed (no httpx here: opening is lazy)."""

from __future__ import annotations

import re

from ..base import StoreError

API = "/api/v1"
# The user-info runs to the last "@" after the scheme (a password may hold "@", spaces,
# ",", "#" or "/", the last two making the URL invalid): greedy to the last "@" before the
# next URL. It may take more than the user-info where a later "@" follows in a message;
# showing less is the safe side.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)(?:(?!://).)*@")
# `--remote A,B` splits only where the next part starts a URL (a password may hold ",").
_LIST_SPLIT = re.compile(r",\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def redact_url(text: str) -> str:
    """`text` with the user:password of every URL in it removed: what may be shown,
    logged or used in a file name (credentials typed into --remote stay in requests only)."""
    return _USERINFO.sub(r"\1", text)


def base_url(url: str) -> str:
    """The server's root from what the user typed (with or without /api/v1); StoreError if not http(s)."""
    base = url.strip().rstrip("/")
    if base.endswith(API):
        base = base[: -len(API)]
    if not base.startswith(("http://", "https://")):
        raise StoreError(f"--remote {redact_url(url)!r} is not an http:// or https:// URL")
    return base


def base_urls(urls: str) -> list[str]:
    """`--remote URL1,URL2`: each server's root, in the order given (replicas of one log)."""
    bases: list[str] = []
    for part in _LIST_SPLIT.split(urls):
        if part.strip():
            base = base_url(part)
            if base not in bases:
                bases.append(base)
    if not bases:
        raise StoreError(f"--remote {redact_url(urls)!r} names no server")
    return bases
