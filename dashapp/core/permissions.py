"""One permission model: roles viewer < editor < admin, and what token scopes grant.

People have a role. Service tokens have scopes, which map onto the same roles
(``read`` -> viewer, ``edit`` -> editor, ``admin`` -> admin); ``ingest`` grants no
role, only the right to push points (``admin`` implies it); ``annotate`` lets a
deploy script mark events on charts (editors and admins may too). Commands ask an
:class:`Actor` whether it holds a role, whoever it is and however it came in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "admin")
RANK: dict[str, int] = {"viewer": 1, "editor": 2, "admin": 3}
SCOPES = ("ingest", "read", "annotate", "edit", "admin")
SCOPE_ROLES: dict[str, Role] = {"read": "viewer", "edit": "editor", "admin": "admin"}
Channel = Literal["ui", "api", "cli", "system"]


def check_role(role: str) -> Role:
    """Return ``role`` if it is one of viewer, editor, admin; else raise ValueError."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, deduplicated in canonical order; ValueError for none or an unknown one."""
    wanted = list(scopes)
    unknown = sorted(set(wanted) - set(SCOPES))
    if unknown or not wanted:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)}; got {wanted}")
    return sorted(set(wanted), key=SCOPES.index)


def role_of_scopes(scopes: Iterable[str]) -> Role | None:
    """The highest role a token's scopes grant (None: an ingest-only token)."""
    roles = [SCOPE_ROLES[scope] for scope in scopes if scope in SCOPE_ROLES]
    return max(roles, key=RANK.__getitem__) if roles else None


@dataclass(frozen=True)
class Actor:
    """Who is acting: a person (by role), a service token (by scopes) or the CLI.

    ``name`` is what audit fields record (a username, ``token:<name>``, ``cli``);
    ``channel`` says how the request came in.
    """

    name: str | None
    role: Role | None
    channel: Channel
    can_ingest: bool = False
    can_annotate: bool = False

    @classmethod
    def user(cls, username: str | None, role: Role | None) -> Actor:
        """A person using the web UI (``username`` None: an anonymous viewer)."""
        return cls(username, role, "ui")

    @classmethod
    def token(cls, name: str, scopes: Iterable[str]) -> Actor:
        """A service token calling the API."""
        granted = set(scopes)
        return cls(
            f"token:{name}",
            role_of_scopes(granted),
            "api",
            bool({"ingest", "admin"} & granted),
            "annotate" in granted,
        )

    @classmethod
    def cli(cls, name: str | None = None) -> Actor:
        """Whoever runs ``dashapp`` on the server: they hold its configuration, so admin."""
        return cls(name or "cli", "admin", "cli", True)

    @classmethod
    def system(cls) -> Actor:
        """dashapp itself (the demo seed, the worker)."""
        return cls("dashapp", "admin", "system", True)

    def may_annotate(self) -> bool:
        """Whether this actor may mark events on charts (annotate scope, or editor up)."""
        return self.can_annotate or self.has("editor")

    def has(self, role: Role) -> bool:
        """Whether this actor holds at least ``role``."""
        return self.role is not None and RANK[self.role] >= RANK[role]
