"""Bearer tokens: one shared token, or a token file of one `NAME TOKEN` line a person."""

from __future__ import annotations

import hmac
import os
import stat
from dataclasses import dataclass
from pathlib import Path

# Every token, shared or per person, on loopback or not: 16 characters of a random hex or
# base64 string are 64-96 bits, out of reach of guessing over HTTP. `openssl rand -hex 16`.
MIN_TOKEN = 16


class TokenFileError(ValueError):
    """A token or token file that cannot be used (a usage error, exit code 2); str() is one line."""


def check_token(token: str, whose: str) -> None:
    if len(token) < MIN_TOKEN:
        raise TokenFileError(
            f"{whose} is {len(token)} characters; tokens need at least {MIN_TOKEN} (try `openssl rand -hex 16`)"
        )
    if not token.isprintable() or any(c.isspace() for c in token):
        raise TokenFileError(f"{whose} has spaces or control characters; use letters, digits and punctuation")


@dataclass(frozen=True)
class Tokens:
    """Who may call the API. `names` maps token -> author name; `shared` authors as sent."""

    names: dict[str, str]
    shared: str | None = None

    @classmethod
    def none(cls) -> Tokens:
        return cls({})

    @classmethod
    def shared_token(cls, token: str) -> Tokens:
        check_token(token, "the token")
        return cls({}, shared=token)

    @classmethod
    def from_file(cls, path: str | Path) -> Tokens:
        p = Path(path).expanduser()
        try:
            # O_NONBLOCK: a FIFO given as the token file must not hang the start.
            fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
            try:
                mode = os.fstat(fd).st_mode  # of the file read, not of whatever the name points to later
                if not stat.S_ISREG(mode):
                    raise TokenFileError(f"token file {p} is not a regular file")
                with os.fdopen(os.dup(fd), "rb") as f:
                    text = f.read().decode("utf-8")
            finally:
                os.close(fd)
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenFileError(f"cannot read token file {p}: {getattr(exc, 'strerror', None) or exc}") from None
        if mode & 0o077:
            # As ssh does for private keys: anyone else who can read it can write as anyone.
            raise TokenFileError(
                f"token file {p} is open to group or others (mode {stat.S_IMODE(mode):04o}); run chmod 600 {p}"
            )
        names: dict[str, str] = {}
        seen: set[str] = set()
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2:
                raise TokenFileError(f"{p}:{n}: expected `NAME TOKEN`, found {len(parts)} field(s)")
            name, token = parts
            check_token(token, f"{p}:{n}: the token for {name}")
            if token in names:
                raise TokenFileError(f"{p}:{n}: the token for {name} is already given to {names[token]}")
            if name in seen:
                raise TokenFileError(f"{p}:{n}: {name} has a second token; give one a person")
            names[token] = name
            seen.add(name)
        if not names:
            raise TokenFileError(f"{p}: no `NAME TOKEN` lines")
        return cls(names)

    @property
    def required(self) -> bool:
        return bool(self.names) or self.shared is not None

    @property
    def per_person(self) -> bool:
        return bool(self.names)

    def check(self, header: str | None) -> tuple[bool, str | None]:
        """(allowed, author to stamp on posted events or None to keep theirs)."""
        if not self.required:
            return True, None
        if not header or not header.startswith("Bearer "):
            return False, None
        given = header[7:].strip().encode()
        ok, who = False, None
        # Compare with every token, in constant time each, so timing tells nothing of which matched.
        if self.shared is not None and hmac.compare_digest(given, self.shared.encode()):
            ok = True
        for token, name in self.names.items():
            if hmac.compare_digest(given, token.encode()):
                ok, who = True, name
        return ok, who
