"""Users: creation, updates and the rules about who may change what."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..exceptions import ConflictError, NotFoundError, PermissionDeniedError
from ..models import Role, User
from ..notifications import Notifier
from . import Page, commit, flush, paginate

EMAIL_TAKEN = "A user with this email already exists."
# What the client is told when a write breaks one of these constraints.
CONFLICTS = {"uq_users_email": EMAIL_TAKEN}
LAST_ADMIN = "This is the last admin: make another user admin first."


BY_ID = select(User).order_by(User.id)


class UserService:
    def __init__(self, session: Session, notifier: Notifier) -> None:
        self.session = session
        self.notifier = notifier

    def list(self, page: int, per_page: int) -> Page[User]:
        return paginate(self.session, BY_ID, page, per_page)

    def get(self, user_id: int) -> User:
        user = self.session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"User {user_id} does not exist.")
        return user

    def create(self, data: Mapping[str, Any]) -> User:
        user = User(**data)
        self.session.add(user)
        flush(self.session, CONFLICTS)
        # In the same transaction: the notification goes out only if the user is committed.
        self.notifier.user_created(
            {"id": user.id, "email": user.email, "name": user.name, "role": user.role}
        )
        commit(self.session, CONFLICTS)
        return user

    def update(self, user_id: int, changes: Mapping[str, Any], actor: User | None = None) -> User:
        """Apply ``changes``; an ``actor`` that is no admin may edit only itself, not its role."""
        user = self.get(user_id)
        if actor is not None and not actor.is_admin:
            if actor.id != user.id:
                raise PermissionDeniedError("You may only edit your own account.")
            if "role" in changes:
                raise PermissionDeniedError("Only an admin can change a role.")
        if user.is_admin and changes.get("role", Role.ADMIN) != Role.ADMIN:
            self._keep_an_admin(user)
        for name, value in changes.items():
            setattr(user, name, value)
        commit(self.session, CONFLICTS)
        return user

    def delete(self, user_id: int) -> None:
        user = self.get(user_id)
        if user.is_admin:
            self._keep_an_admin(user)
        self.session.delete(user)
        commit(self.session)

    def _keep_an_admin(self, leaving: User) -> None:
        """409 when ``leaving`` is the only admin.

        The admins' rows stay locked until the transaction ends, so two admins
        removing each other at the same moment cannot both succeed.
        """
        admins = select(User.id).where(User.role == Role.ADMIN).with_for_update()
        if list(self.session.scalars(admins)) == [leaving.id]:
            raise ConflictError(LAST_ADMIN)
