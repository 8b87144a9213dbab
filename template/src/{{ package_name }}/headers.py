"""Security headers on every response, and CORS only where origins are configured."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

# API responses carry data, never active content.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The interactive docs page runs Swagger UI, served by the service itself (api/docs.py);
# its start-up script is inline. Nothing may come from another origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def init_http_headers(app: Flask) -> None:
    origins = app.config["CORS_ORIGINS"]
    if origins:
        CORS(app, origins=origins, expose_headers=["Location", "X-Request-ID"])
    hsts_seconds = app.config["HSTS_SECONDS"]
    # Where flask-smorest serves the docs page, from its own settings.
    prefix, page = app.config["OPENAPI_URL_PREFIX"], app.config["OPENAPI_SWAGGER_UI_PATH"]
    docs_path = prefix.rstrip("/") + "/" + page.strip("/")

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        is_docs = request.path.rstrip("/") == docs_path
        headers.setdefault("Content-Security-Policy", DOCS_CSP if is_docs else API_CSP)
        if hsts_seconds:
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
        return response
