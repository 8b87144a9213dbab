"""Business rules. Services take a SQLAlchemy session and collaborators; no Flask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int


def paginate(session: Session, statement: Select[tuple[T]], page: int, per_page: int) -> Page[T]:
    """One page of ``statement``'s rows and the total count: two queries, whatever the size."""
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    total = session.scalar(count) or 0
    items = session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, per_page=per_page, total=total)
