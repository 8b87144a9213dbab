"""The ceiling of the stack: a bare Flask app answering a constant JSON body."""

from ceiling_body import POST
from flask import Flask

app = Flask(__name__)


@app.get("/post")
def post() -> dict[str, object]:
    return {"data": POST}
