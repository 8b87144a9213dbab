"""Business rules. Services take a SQLAlchemy session and collaborators; no Flask."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import violated_constraint
from ..exceptions import ConflictError
from ..extensions import Base

T = TypeVar("T")

CONFLICT = "The request conflicts with existing data."


def commit(session: Session, conflicts: Mapping[str, str] | None = None) -> None:
    """Commit, or raise ConflictError when a constraint refuses the write.

    ``conflicts`` gives the message for each constraint by name (a taken email, say);
    any other constraint gets a plain conflict. Races end here too: a row that another
    request deleted between a check and this write (a post's author) is a conflict,
    never an unexpected error. The session is rolled back.
    """
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        constraint = violated_constraint(error, Base.metadata) or ""
        raise ConflictError((conflicts or {}).get(constraint, CONFLICT)) from None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int


def paginate(session: Session, statement: Select[T], page: int, per_page: int) -> Page[T]:
    """One page of ``statement``'s rows and the total count: two queries, whatever the size."""
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    total = session.scalar(count) or 0
    items = session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, per_page=per_page, total=total)
