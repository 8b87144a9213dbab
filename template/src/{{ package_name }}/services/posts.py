"""Posts: newest first; only the author or an admin may change one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..exceptions import InvalidDataError, NotFoundError, PermissionDeniedError
from ..models import Post, User
from . import Page, commit, paginate

NEWEST_FIRST = select(Post).order_by(Post.created_at.desc(), Post.id.desc())


class PostService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self, page: int, per_page: int) -> Page[Post]:
        return paginate(self.session, NEWEST_FIRST, page, per_page)

    def get(self, post_id: int) -> Post:
        post = self.session.get(Post, post_id)
        if post is None:
            raise NotFoundError(f"Post {post_id} does not exist.")
        return post

    def create(self, data: Mapping[str, Any], actor: User | None = None) -> Post:
        """A post by ``actor``; without authentication (no actor) the data names the author."""
        fields = dict(data)
        if actor is not None:
            fields["author_id"] = actor.id
        author_id = fields["author_id"]
        if self.session.get(User, author_id) is None:
            raise InvalidDataError(
                "The author does not exist.", {"author_id": [f"No user has id {author_id}."]}
            )
        post = Post(**fields)
        self.session.add(post)
        commit(self.session)
        return post

    def update(self, post_id: int, changes: Mapping[str, Any], actor: User | None = None) -> Post:
        post = self._editable(post_id, actor)
        for name, value in changes.items():
            setattr(post, name, value)
        commit(self.session)
        return post

    def delete(self, post_id: int, actor: User | None = None) -> None:
        self.session.delete(self._editable(post_id, actor))
        commit(self.session)

    def _editable(self, post_id: int, actor: User | None) -> Post:
        """The post, if ``actor`` (None: no authentication) may change it."""
        post = self.get(post_id)
        if actor is not None and not actor.is_admin and actor.id != post.author_id:
            raise PermissionDeniedError("Only the author or an admin may change this post.")
        return post
