"""The interactive docs page's scripts and styles, served by the service itself.

flask-smorest renders /docs; its Swagger UI files come from the pinned
swagger-ui-bundle package, so the page works offline and behind strict proxies, and
its Content-Security-Policy names no other origin (headers.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

# A plain Flask blueprint: these files are not part of the API or its document.
assets = Blueprint("docs_assets", __name__, url_prefix="/docs/assets")


@assets.get("/<path:filename>")
def asset(filename: str) -> Response:
    """A file of Swagger UI; anything outside its folder is a 404."""
    return send_from_directory(swagger_ui_path, filename, max_age=24 * 3600)
