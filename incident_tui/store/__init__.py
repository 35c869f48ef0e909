"""Stores behind one protocol; `open_store` picks the one the settings name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import LinkState, Store, StoreCorrupt, StoreError

if TYPE_CHECKING:
    from ..config import Config
    from ..domain.fold import Registry

__all__ = ["LinkState", "Store", "StoreCorrupt", "StoreError", "folded", "open_store"]


def folded(store: Store) -> Registry:
    """The fold of everything a store holds. A store that keeps an index (the JSON store)
    answers from it without reading every event; any other is read whole and folded."""
    own = getattr(store, "registry", None)
    if callable(own):
        return own()
    from ..domain.fold import Registry

    reg = Registry()
    reg.extend(store.read())
    return reg


def open_store(config: Config) -> Store:
    if config.remote:
        from .remote import RemoteStore  # imported lazily: httpx is not needed for local use

        return RemoteStore(config.remote, token=config.token, user=config.user, data_dir=config.data_dir)
    from .jsonfile import JsonStore

    return JsonStore(config.store)
