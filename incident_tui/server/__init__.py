"""The HTTP API over any store (SPEC 6): `create_app` builds it, `serve` runs it."""

from __future__ import annotations

from .app import create_app
from .auth import Tokens

__all__ = ["Tokens", "create_app"]
