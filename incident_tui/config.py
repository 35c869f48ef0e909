"""Settings: command-line flag, then environment, then the config file, then defaults."""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_path, user_data_path

from .domain.checklists import read_settings_file

APP = "incident-tui"
CONFIG_KEYS = ("store", "remote", "token", "token_file", "user", "theme", "runbooks")
# Tables read by `serve` (SPEC 11), checked by server/integrations.py.
TABLE_KEYS = ("notify", "delivery", "alerts")


class ConfigError(ValueError):
    """A config file or setting that cannot be used (a usage error, exit code 2)."""


def config_dir() -> Path:
    return user_config_path(APP)


def config_file() -> Path:
    return Path(os.environ.get("INCIDENT_TUI_CONFIG") or config_dir() / "config.toml")


def default_store_path() -> Path:
    return user_data_path(APP) / "incidents.jsonl"


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "anonymous"


@dataclass(frozen=True)
class Config:
    store: Path
    remote: str | None
    token: str | None
    user: str
    theme: str | None
    runbooks: Path | None
    config_path: Path
    tables: dict[str, Any] = field(default_factory=dict)  # the TABLE_KEYS present in the file

    @property
    def data_dir(self) -> Path:
        return user_data_path(APP)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        doc = tomllib.loads(read_settings_file(path).decode("utf-8"))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(doc) - set(CONFIG_KEYS) - set(TABLE_KEYS)
    if unknown:
        known = ", ".join(CONFIG_KEYS + TABLE_KEYS)
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; known: {known}")
    for k, v in doc.items():
        if k in TABLE_KEYS:
            continue
        if not isinstance(v, str):
            raise ConfigError(f"{path}: {k} must be a string")
    return doc


def read_token_file(path: Path) -> str:
    """A client's token kept out of argv (where `ps` shows it to everyone on the host): the
    first line of a file only its owner can read, as ssh insists for keys."""
    try:
        st = path.stat()
        if st.st_mode & 0o077:
            raise ConfigError(
                f"token file {path} can be read by others (mode {st.st_mode & 0o777:04o}); chmod 600 {path}"
            )
        lines = [ln.strip() for ln in read_settings_file(path).decode("utf-8").splitlines()]
    except OSError as exc:
        raise ConfigError(f"cannot read token file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"token file {path} is not text") from None
    token = next((ln for ln in lines if ln and not ln.startswith("#")), "")
    if not token or any(c.isspace() for c in token):
        raise ConfigError(f"token file {path} must hold one token on its first line")
    return token


def _token_file(value: str | None) -> str | None:
    return read_token_file(Path(value).expanduser()) if value else None


def load_config(**flags: str | None) -> Config:
    """Resolve settings; `flags` are the command-line values (None where not given)."""
    path = config_file()
    file = _read_file(path)

    def pick(key: str) -> str | None:
        return flags.get(key) or os.environ.get(f"INCIDENT_TUI_{key.upper()}") or file.get(key) or None

    store = pick("store")
    runbooks = pick("runbooks")
    return Config(
        store=Path(store).expanduser() if store else default_store_path(),
        remote=pick("remote"),
        token=flags.get("token")
        or os.environ.get("INCIDENT_TUI_TOKEN")
        or _token_file(pick("token_file"))
        or file.get("token"),
        user=pick("user") or default_user(),
        theme=pick("theme"),
        runbooks=Path(runbooks).expanduser() if runbooks else None,
        config_path=path,
        tables={k: file[k] for k in TABLE_KEYS if k in file},
    )
