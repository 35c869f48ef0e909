"""The war room over SSH (SPEC 10): `serve --ssh-port N --ssh-keys DIR [--ssh-host-key FILE]`."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from .credentials import SessionTokens
from .keys import KeyFolderError, read_folder
from .server import SshLimits, SshSettings, WarRoomSsh, install_log_handler, start_message
from .session import ChildSpec

__all__ = [
    "ChildSpec",
    "KeyFolderError",
    "SessionTokens",
    "SshLimits",
    "SshSettings",
    "WarRoomSsh",
    "api_url_for",
    "install_log_handler",
    "read_folder",
    "settings_from_args",
    "start_message",
]


def api_url_for(http_host: str, http_port: int) -> str:
    """The URL a session's app uses to reach this server's own API: loopback whenever the
    API listens there (a wildcard bind does), so it passes the server's Host checks."""
    host = http_host.strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if host in ("", "localhost") or (ip is not None and (ip.is_unspecified or ip.is_loopback)):
        loop = "[::1]" if ip is not None and ip.version == 6 else "127.0.0.1"
        return f"http://{loop}:{http_port}"
    return f"http://{f'[{host}]' if ip is not None and ip.version == 6 else host}:{http_port}"


def default_host_key(data_dir: Path) -> Path:
    return data_dir / "ssh_host_ed25519_key"


def settings_from_args(a: Any, data_dir: Path) -> SshSettings:
    """`serve`'s --ssh-* options as settings; ValueError (one line) when they cannot be used."""
    if a.ssh_port is None or not a.ssh_keys:
        raise ValueError("--ssh-port N and --ssh-keys DIR go together (DIR holds one NAME.pub a person)")
    if not 0 <= a.ssh_port <= 65535:
        raise ValueError(f"--ssh-port {a.ssh_port} is not a TCP port")
    for flag, n in (("--ssh-max-sessions", a.ssh_max_sessions), ("--ssh-max-per-person", a.ssh_max_per_person)):
        if n < 1:
            raise ValueError(f"{flag} must be 1 or more")
    if not a.ssh_idle_timeout >= 0:  # also refuses nan
        raise ValueError("--ssh-idle-timeout must be 0 (never) or more seconds")
    keys = Path(a.ssh_keys).expanduser().resolve()
    read_folder(keys)  # a missing or unsafe folder is refused at start (KeyFolderError is a ValueError)
    limits = SshLimits(
        per_person=a.ssh_max_per_person,
        sessions=a.ssh_max_sessions,
        connections=max(2 * a.ssh_max_sessions, 16),
        idle_timeout=a.ssh_idle_timeout,
    )
    return SshSettings(
        host=a.ssh_host or a.host,
        port=a.ssh_port,
        keys=keys,
        host_key=Path(a.ssh_host_key).expanduser() if a.ssh_host_key else default_host_key(data_dir),
        homes=data_dir / "ssh-people",
        limits=limits,
    )
