"""Where the API lives on a server, from what the user typed (no httpx here: opening is lazy)."""

from __future__ import annotations

from ..base import StoreError

API = "/api/v1"


def base_url(url: str) -> str:
    """The server's root from what the user typed (with or without /api/v1); StoreError if not http(s)."""
    base = url.strip().rstrip("/")
    if base.endswith(API):
        base = base[: -len(API)]
    if not base.startswith(("http://", "https://")):
        raise StoreError(f"--remote {url!r} is not an http:// or https:// URL")
    return base
