"""Who may connect: a folder of `NAME.pub` files (the gitolite keydir convention), and the host key.

The key decides the person, whatever login name the client gives. The folder is re-read
whenever it changes (checked at the start of each authentication and every few seconds for
open sessions), so adding or removing a responder needs no restart.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from ...store.files import write_new

# A person's name becomes an author name, a folder name and a log word: keep it plain.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
PERSON_VAR = "INCIDENT_TUI_PERSON"  # carried as an authorized-keys environment option of each key
MAX_KEY_FILE = 64 * 1024


class KeyFolderError(ValueError):
    """A keys folder or host key that cannot be used; str() is one line."""


@dataclass
class KeyRing:
    """The keys of one reading of the folder."""

    people: dict[str, list[str]] = field(default_factory=dict)  # person -> fingerprints
    by_fingerprint: dict[str, str] = field(default_factory=dict)  # fingerprint -> person
    authorized: asyncssh.SSHAuthorizedKeys | None = None
    warnings: list[str] = field(default_factory=list)


def _signature(folder: Path) -> tuple[object, ...]:
    st = folder.stat()
    parts: list[object] = [st.st_mtime_ns, st.st_ino]
    with os.scandir(folder) as it:
        for entry in sorted(it, key=lambda e: e.name):
            if entry.name.endswith(".pub"):
                try:
                    s = entry.stat()
                except OSError:
                    continue
                parts.append((entry.name, s.st_ino, s.st_size, s.st_mtime_ns))
    return tuple(parts)


def _check_folder(folder: Path) -> None:
    try:
        st = folder.stat()
    except FileNotFoundError:
        raise KeyFolderError(f"--ssh-keys {folder}: no such folder (create it and put NAME.pub files in it)") from None
    except OSError as exc:
        raise KeyFolderError(f"--ssh-keys {folder}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise KeyFolderError(f"--ssh-keys {folder}: not a folder")
    if st.st_mode & stat.S_IWOTH:
        # Anyone on the host could add a key and be anyone in the war room.
        raise KeyFolderError(f"--ssh-keys {folder}: writable by everyone; chmod o-w it")


def read_folder(folder: Path) -> KeyRing:
    """Parse every `NAME.pub`; a bad line or file is skipped with a warning, never fatal."""
    _check_folder(folder)
    ring = KeyRing()
    seen: dict[str, str] = {}  # fingerprint -> first person
    clash: set[str] = set()
    lines: list[tuple[str, str, str]] = []  # (person, fingerprint, openssh line)
    for path in sorted(folder.glob("*.pub")):
        person = path.name[: -len(".pub")]
        if not NAME.match(person):
            ring.warnings.append(f"{path.name}: skipped (a name is letters, digits, '.', '_', '-', up to 32)")
            continue
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                ring.warnings.append(f"{path.name}: skipped (not a regular file)")
                continue
            if st.st_mode & stat.S_IWOTH:
                ring.warnings.append(f"{path.name}: skipped (writable by everyone; chmod o-w it)")
                continue
            if st.st_size > MAX_KEY_FILE:
                ring.warnings.append(f"{path.name}: skipped (over {MAX_KEY_FILE // 1024} KiB)")
                continue
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            ring.warnings.append(f"{path.name}: skipped ({getattr(exc, 'strerror', None) or exc})")
            continue
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                key = asyncssh.import_public_key(line)
            except (asyncssh.KeyImportError, ValueError):
                ring.warnings.append(f"{path.name}:{n}: skipped (not an OpenSSH public key line)")
                continue
            fp = key.get_fingerprint("sha256")
            if fp in seen and seen[fp] != person:
                clash.add(fp)
                ring.warnings.append(f"{path.name}:{n}: key {fp} is also {seen[fp]}'s; refused for both")
                continue
            seen[fp] = person
            lines.append((person, fp, key.export_public_key("openssh").decode("ascii").strip()))
    out: list[str] = []
    for person, fp, keyline in lines:
        if fp in clash:
            continue
        ring.people.setdefault(person, []).append(fp)
        ring.by_fingerprint[fp] = person
        # The person rides on the key itself, so the key that authenticated names its owner.
        out.append(f'environment="{PERSON_VAR}={person}" {keyline}')
    ring.authorized = asyncssh.import_authorized_keys("\n".join(out) + "\n") if out else None
    return ring


class KeyFolder:
    """The folder, re-read when its listing or any key file changes."""

    def __init__(self, folder: Path, on_warning=None) -> None:
        self.folder = folder
        self._sig: tuple[object, ...] | None = None
        self._on_warning = on_warning
        self.ring = KeyRing()
        self.refresh()

    def refresh(self) -> KeyRing:
        """The current keys; re-reads the folder only when it changed. A folder that vanished
        leaves nobody able to log in (an empty ring), never the old keys."""
        try:
            sig = _signature(self.folder)
        except OSError:
            sig = None
        if sig is not None and sig == self._sig:
            return self.ring
        try:
            ring = read_folder(self.folder)
        except KeyFolderError as exc:
            ring = KeyRing(warnings=[str(exc)])
        self._sig = sig
        self.ring = ring
        if self._on_warning:
            for w in ring.warnings:
                self._on_warning(w)
        return ring


# -- host key ------------------------------------------------------------------


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The server's private key (created as ed25519, mode 0600, on first start); (key, created)."""
    created = False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="incident-tui host key")
        data = key.export_private_key("openssh")
        try:
            # O_EXCL: two servers starting at once never overwrite each other's key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        except OSError as exc:
            raise KeyFolderError(f"cannot create the ssh host key {path}: {exc.strerror}") from None
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            pub = path.with_name(path.name + ".pub")
            pub.unlink(missing_ok=True)  # a name, never a link planted there, gets the public key
            write_new(pub, key.export_public_key("openssh"), 0o644)
            created = True
    try:
        st = path.stat()
    except OSError as exc:
        raise KeyFolderError(f"cannot read the ssh host key {path}: {exc.strerror}") from None
    if st.st_mode & 0o077:
        raise KeyFolderError(
            f"the ssh host key {path} is readable by others (mode {st.st_mode & 0o777:o}); chmod 600 it"
        )
    try:
        key = asyncssh.read_private_key(path)
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise KeyFolderError(f"cannot use the ssh host key {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return key, created
