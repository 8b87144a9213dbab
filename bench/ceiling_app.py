"""The ceiling of the stack: a bare Flask app answering a constant JSON body."""

from flask import Flask

POST = {
    "id": 1,
    "title": "Hello",
    "body": "A constant post, the same size as the benchmark's rows.",
    "author_id": 1,
    "created_at": "2026-01-01T00:00:00+00:00",
}

app = Flask(__name__)


@app.get("/post")
def post() -> dict[str, object]:
    return {"data": POST}
