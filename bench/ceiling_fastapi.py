"""The ceiling of FastAPI: a bare app answering a constant JSON body (as ceiling_app.py)."""

from ceiling_body import POST
from fastapi import FastAPI

app = FastAPI()


@app.get("/post")
async def post() -> dict[str, object]:
    return {"data": POST}
