"""The FastAPI peer: what fastapi/full-stack-fastapi-template's backend does for items.

FastAPI, SQLModel and psycopg, plain ``def`` routes with a session per request as a
dependency; a bearer JWT (HS256) whose subject is the caller's UUID, the caller loaded
and checked active on every request; an item read with its owner check, a page with a
count, a create that commits and refreshes. Served as that template ships it:
``fastapi run --workers N``. Written here for bench/peers.py; not a copy of its code.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import OAuth2PasswordBearer
from jwt.exceptions import InvalidTokenError
from pydantic import ValidationError
from sqlalchemy import DateTime
from sqlmodel import Field, Session, SQLModel, col, create_engine, func, select

SECRET_KEY = os.environ["PEER_SECRET_KEY"]
ALGORITHM = "HS256"
engine = create_engine(os.environ["PEER_DATABASE_URL"])


class User(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=255)
    is_active: bool = True
    is_superuser: bool = False
    full_name: str | None = Field(default=None, max_length=255)
    hashed_password: str


class ItemBase(SQLModel):
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=255)


class ItemCreate(ItemBase):
    pass


class Item(ItemBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), sa_type=DateTime(timezone=True)
    )
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False, ondelete="CASCADE")


class ItemPublic(ItemBase):
    id: uuid.UUID
    owner_id: uuid.UUID
    created_at: datetime


class ItemsPublic(SQLModel):
    data: list[ItemPublic]
    count: int


class TokenPayload(SQLModel):
    sub: str | None = None


bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/login/access-token")


def get_db() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
TokenDep = Annotated[str, Depends(bearer)]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
        token_data = TokenPayload(**payload)
    except (InvalidTokenError, ValidationError) as error:
        raise HTTPException(status_code=403, detail="Could not validate credentials") from error
    user: User | None = session.get(User, uuid.UUID(token_data.sub or ""))
    if not user:
        raise HTTPException(status_code=404, detail="User not found")
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
router = APIRouter(prefix="/items", tags=["items"])


@router.get("/", response_model=ItemsPublic)
def read_items(session: SessionDep, user: CurrentUser, skip: int = 0, limit: int = 100) -> Any:
    counted = select(func.count()).select_from(Item)
    listed = select(Item).order_by(col(Item.created_at).desc()).offset(skip).limit(limit)
    if not user.is_superuser:
        counted = counted.where(Item.owner_id == user.id)
        listed = listed.where(Item.owner_id == user.id)
    return ItemsPublic(data=session.exec(listed).all(), count=session.exec(counted).one())


@router.get("/{id}", response_model=ItemPublic)
def read_item(session: SessionDep, user: CurrentUser, id: uuid.UUID) -> Any:
    item = session.get(Item, id)
    if not item:
        raise HTTPException(status_code=404, detail="Item not found")
    if not user.is_superuser and item.owner_id != user.id:
        raise HTTPException(status_code=400, detail="Not enough permissions")
    return item


@router.post("/", response_model=ItemPublic)
def create_item(session: SessionDep, user: CurrentUser, item_in: ItemCreate) -> Any:
    item = Item.model_validate(item_in, update={"owner_id": user.id})
    session.add(item)
    session.commit()
    session.refresh(item)
    return item


app = FastAPI(title="peer", openapi_url="/api/v1/openapi.json")
app.add_middleware(
    CORSMiddleware,
    allow_origins=["http://localhost", "http://localhost:5173"],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)
app.include_router(router, prefix="/api/v1")


def seed(rows: int) -> None:
    """Tables, one superuser and ``rows`` items; prints a token and an item's id."""
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        admin = User(email="admin@example.com", is_superuser=True, hashed_password="x")
        session.add(admin)
        session.commit()
        items = [
            Item(title=f"Item {i}", description="Some text " * 20, owner_id=admin.id)
            for i in range(rows)
        ]
        session.add_all(items)
        session.commit()
        expires = datetime.now(UTC) + timedelta(days=8)
        token = jwt.encode({"exp": expires, "sub": str(admin.id)}, SECRET_KEY, ALGORITHM)
        print(json.dumps({"token": token, "item": str(items[rows // 2].id)}))
