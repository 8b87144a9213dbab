"""The generated /docs page, opened in a real headless browser with no network but loopback.

The page must render every operation of the service's OpenAPI document from files the
service serves itself: no CDN, nothing from another origin.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .matrix import default_combination
from .renders import Renders
from .served import Service, served_on_sqlite
from .tools import IN_CI

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def browser() -> str:
    """A Chromium to drive; skip without one (fail under CI, where .ci/run installs it)."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    message = "no headless Chromium found (apt-get install chromium)"
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def service(renders: Renders, tmp_path: Path) -> Iterator[Service]:
    combo = default_combination()
    with served_on_sqlite(renders.get(combo), combo, tmp_path) as service:
        yield service


def rendered_page(chromium: str, url: str, profile: Path) -> str:
    """The page's DOM once its scripts have run, with every other host unreachable."""
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            # The network is off: no name resolves, and anything not on loopback goes to a
            # proxy that does not exist.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--proxy-server=http://127.0.0.1:9",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_docs_page_renders_every_operation_offline(service: Service, tmp_path: Path) -> None:
    chromium = browser()
    document = service.request("GET", "/openapi.json").json
    operations = sorted(
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    )

    page = rendered_page(chromium, f"http://127.0.0.1:{service.port}/docs", tmp_path / "profile")

    assert "Unable to render this definition" not in page
    shown_paths = re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', page)
    shown_methods = re.findall(r'class="opblock-summary-method">([A-Z]+)<', page)
    shown = sorted(zip(shown_paths, (m.lower() for m in shown_methods), strict=True))
    assert shown == operations
    assert len(operations) >= 10
