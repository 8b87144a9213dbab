"""Business rules. Services take a SQLAlchemy session and collaborators; no Flask."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, bindparam, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import violated_constraint
from ..exceptions import ConflictError
from ..extensions import Base

T = TypeVar("T")

CONFLICT = "The request conflicts with existing data."


@contextmanager
def conflicts_raised(session: Session, conflicts: Mapping[str, str] | None) -> Iterator[None]:
    """Turn a constraint's refusal into ConflictError, after rolling the session back.

    ``conflicts`` gives the message for each constraint by name (a taken email, say);
    any other constraint gets a plain conflict. Races end here too: a row that another
    request deleted between a check and this write (a post's author) is a conflict,
    never an unexpected error.
    """
    try:
        yield
    except IntegrityError as error:
        session.rollback()
        constraint = violated_constraint(error, Base.metadata) or ""
        raise ConflictError((conflicts or {}).get(constraint, CONFLICT)) from None


def commit(session: Session, conflicts: Mapping[str, str] | None = None) -> None:
    """Commit, or raise ConflictError when a constraint refuses the write."""
    with conflicts_raised(session, conflicts):
        session.commit()


def flush(session: Session, conflicts: Mapping[str, str] | None = None) -> None:
    """Write pending rows without committing (new rows get their ids), or raise ConflictError."""
    with conflicts_raised(session, conflicts):
        session.flush()


AFTER_COMMIT = "after_commit"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once ``session``'s transaction commits; never if it rolls back.

    For effects outside the database (a webhook, a queued task) that must follow
    only a write that happened. ``action`` runs after the commit, so it must not
    raise: the data is written whatever it does.
    """
    if not session.in_transaction():
        # Belongs to the transaction that is about to begin: its rollback forgets it too.
        session.begin()
    session.info.setdefault(AFTER_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for action in session.info.pop(AFTER_COMMIT, []):
        action()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_commit(session: Session, previous_transaction: Any) -> None:
    session.info.pop(AFTER_COMMIT, None)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int


def paginate(
    session: Session,
    statement: Select[T],
    page: int,
    per_page: int,
    values: Mapping[str, Any] | None = None,
) -> Page[T]:
    """One page of ``statement``'s rows and the total count: two queries, whatever the size.

    Give it a statement built once, a module constant whose varying parts are bind
    parameters (their ``values`` given here): its count and page are then built once
    too, and SQLAlchemy reuses their compiled form on every request.
    """
    count, rows = page_statements(statement)
    total = session.scalar(count, values) or 0
    window = {**(values or {}), "limit": per_page, "offset": (page - 1) * per_page}
    items = session.scalars(rows, window).all()
    return Page(items=items, page=page, per_page=per_page, total=total)


@lru_cache(maxsize=64)
def page_statements(statement: Select[T]) -> tuple[Select[int], Select[T]]:
    """The count of ``statement`` and a page of it, its window bound when it runs."""
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    return count, statement.limit(bindparam("limit")).offset(bindparam("offset"))
