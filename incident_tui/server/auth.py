"""Bearer tokens: one shared token, or a token file of one `NAME TOKEN` line a person."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path


class TokenFileError(ValueError):
    """A token file that cannot be used (a usage error, exit code 2); str() is one line."""


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
        return cls({}, shared=token)

    @classmethod
    def from_file(cls, path: str | Path) -> Tokens:
        p = Path(path).expanduser()
        try:
            text = p.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenFileError(f"cannot read token file {p}: {getattr(exc, 'strerror', None) or exc}") from None
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
            if len(token) < 8:
                raise TokenFileError(f"{p}:{n}: the token for {name} is shorter than 8 characters")
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
