"""/api/v1/posts"""

from __future__ import annotations

from typing import Any

from flask import url_for

from ..extensions import db
from ..schemas import PageQuery, PostCreate, PostListResponse, PostResponse, PostUpdate
from ..services.posts import PostService
from . import Blueprint, listed
from .access import current_actor

blp = Blueprint("posts", __name__, url_prefix="/api/v1/posts", description="Posts, newest first")


def post_service() -> PostService:
    return PostService(db.session())


@blp.get("")
@blp.response(200, PostListResponse)
@blp.arguments(PageQuery, location="query")
def list_posts(query: dict[str, int]) -> dict[str, Any]:
    return listed(post_service().list(**query))


@blp.post("")
@blp.response(201, PostResponse)
@blp.arguments(PostCreate)
def create_post(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    post = post_service().create(data, actor=current_actor())
    return {"data": post}, 201, {"Location": url_for("posts.get_post", post_id=post.id)}


@blp.get("/<id:post_id>")
@blp.response(200, PostResponse)
def get_post(post_id: int) -> dict[str, Any]:
    return {"data": post_service().get(post_id)}


@blp.patch("/<id:post_id>")
@blp.response(200, PostResponse)
# Every field is optional, the body too: a PATCH without changes changes nothing.
@blp.arguments(PostUpdate, required=False)
def update_post(changes: dict[str, Any], post_id: int) -> dict[str, Any]:
    return {"data": post_service().update(post_id, changes, actor=current_actor())}


@blp.delete("/<id:post_id>")
@blp.response(204)
def delete_post(post_id: int) -> None:
    post_service().delete(post_id, actor=current_actor())
