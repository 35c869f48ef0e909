"""Stores behind one protocol; `open_store` picks the one the settings name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import LinkState, Store, StoreCorrupt, StoreError

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["LinkState", "Store", "StoreCorrupt", "StoreError", "open_store"]


def open_store(config: Config) -> Store:
    if config.remote:
        from .remote import RemoteStore  # imported lazily: httpx is not needed for local use

        return RemoteStore(config.remote, token=config.token, user=config.user, data_dir=config.data_dir)
    from .jsonfile import JsonStore

    return JsonStore(config.store)
