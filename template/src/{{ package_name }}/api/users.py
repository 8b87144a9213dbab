"""/api/v1/users"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from ..delivery import notifier_for
from ..extensions import db
from ..observability import security_event
from ..schemas import PageQuery, UserCreate, UserListResponse, UserResponse, UserUpdate
from ..services.users import UserService
from . import Blueprint, listed
from .access import confirm_own_credentials, current_actor, shown_user

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="User accounts")

# The security event each change of a user's field is logged as.
CHANGE_EVENTS = {
    "email": "email_changed",
    "password_hash": "password_changed",
    "role": "role_changed",
}


def user_service() -> UserService:
    return UserService(db.session(), notifier_for(current_app, db.session()))


@blp.get("")
@blp.response(200, UserListResponse)
@blp.arguments(PageQuery, location="query")
def list_users(query: dict[str, int]) -> dict[str, Any]:
    page = user_service().list(**query)
    return listed(page) | {"data": [shown_user(user) for user in page.items]}


@blp.post("")
@blp.response(201, UserResponse)
@blp.arguments(UserCreate)
def create_user(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    user = user_service().create(data)
    return {"data": user}, 201, {"Location": url_for("users.get_user", user_id=user.id)}


@blp.get("/<id:user_id>")
@blp.response(200, UserResponse)
def get_user(user_id: int) -> dict[str, Any]:
    return {"data": shown_user(user_service().get(user_id))}


@blp.patch("/<id:user_id>")
@blp.response(200, UserResponse)
@blp.alt_response(409, response="CONFLICT", description="Email taken, or the last admin")
# Every field is optional, the body too: a PATCH without changes changes nothing.
@blp.arguments(UserUpdate, required=False)
def update_user(changes: dict[str, Any], user_id: int) -> dict[str, Any]:
    confirm_own_credentials(user_id, changes)
    user = user_service().update(user_id, changes, actor=current_actor())
    for field in sorted(CHANGE_EVENTS.keys() & changes.keys()):
        security_event(CHANGE_EVENTS[field], target_user_id=user_id)
    return {"data": shown_user(user)}


@blp.delete("/<id:user_id>")
@blp.response(204)
@blp.alt_response(409, response="CONFLICT", description="The last admin")
def delete_user(user_id: int) -> None:
    user_service().delete(user_id)
    security_event("user_deleted", target_user_id=user_id)
