"""What the app believes about a request before routing it.

- The client address: with ``TRUSTED_PROXIES=n``, the address that the n reverse
  proxies in front of the service report in X-Forwarded-For (and the scheme in
  X-Forwarded-Proto); with 0, the address of the connection itself. Headers a
  client writes itself are never believed.
- The host: Flask answers 400 to a Host header outside ``TRUSTED_HOSTS``.
- Paths: a run of slashes (``/api/v1//posts``) reads as one and is answered
  directly. It is never redirected: a redirect would be built from the Host header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SLASHES = re.compile(r"/{2,}")


class CollapseSlashes:
    """WSGI middleware: ``//`` and longer runs in the path become one ``/``."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if "//" in path:
            environ["PATH_INFO"] = SLASHES.sub("/", path)
        return self.app(environ, start_response)


def init_edge(app: Flask) -> None:
    app.url_map.merge_slashes = False
    wsgi_app: Any = CollapseSlashes(app.wsgi_app)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        wsgi_app = ProxyFix(wsgi_app, x_for=proxies, x_proto=proxies)
    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
