"""The ceiling of FastAPI: a bare app answering a constant JSON body (as ceiling_app.py)."""

from fastapi import FastAPI

POST = {
    "id": 1,
    "title": "Hello",
    "body": "A constant post, the same size as the benchmark's rows.",
    "author_id": 1,
    "created_at": "2026-01-01T00:00:00+00:00",
}

app = FastAPI()


@app.get("/post")
async def post() -> dict[str, object]:
    return {"data": POST}
