"""Who a request acts for, and what their role lets them do."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.errors import Forbidden
from domain.model import Role


@dataclass(frozen=True, slots=True)
class Caller:
    """Whom a request acts for: a user (from a token), or the operator at the server's console."""

    user_id: UUID | None
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def sees(self, user_id: UUID) -> bool:
        """An admin sees everyone; a member only themselves (anyone else is "not found" to them)."""
        return self.role is Role.ADMIN or user_id == self.user_id

    def must_be_admin(self) -> None:
        if self.role is not Role.ADMIN:
            raise Forbidden("only an admin may do this")


OPERATOR = Caller(None, Role.ADMIN)
"""The command line on the server (create-admin, import): whoever can run it owns the store."""
