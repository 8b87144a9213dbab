"""The ceiling of a one-row read: bare Flask and one psycopg query, nothing else.

One autocommit connection per process, a hand-written SELECT and a dict: no pool,
no ORM, no schema, no logging or metrics. The distance between this and the
service's GET /api/v1/posts/<id> is what the service's own layers cost.
"""

import os

import psycopg
from flask import Flask

app = Flask(__name__)
connection: psycopg.Connection | None = None


@app.get("/posts/<int:post_id>")
def post(post_id: int) -> dict[str, object]:
    global connection
    if connection is None:
        connection = psycopg.connect(os.environ["CEILING_DATABASE_URL"], autocommit=True)
    row = connection.execute(
        "SELECT id, title, body, author_id, created_at FROM posts WHERE id = %s", (post_id,)
    ).fetchone()
    assert row is not None
    names = ("id", "title", "body", "author_id", "created_at")
    return {"data": dict(zip(names, [*row[:4], row[4].isoformat()], strict=True))}
