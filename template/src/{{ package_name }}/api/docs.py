"""The interactive docs page's scripts and styles, served by the service itself.

flask-smorest renders /docs; its Swagger UI files come from the flask-swagger-ui
package (Swagger UI 5, which reads OpenAPI 3.1), so the page works offline and behind
strict proxies, and its Content-Security-Policy names no other origin (headers.py).
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, send_from_directory

# The package's copy of Swagger UI's distribution files (swagger-ui-bundle.js, ...).
SWAGGER_UI = str(resources.files("flask_swagger_ui") / "dist")

# A plain Flask blueprint: these files are not part of the API or its document.
assets = Blueprint("docs_assets", __name__, url_prefix="/docs/assets")


@assets.get("/<path:filename>")
def asset(filename: str) -> Response:
    """A file of Swagger UI; anything outside its folder is a 404."""
    return send_from_directory(SWAGGER_UI, filename, max_age=24 * 3600)
