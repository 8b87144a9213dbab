from __future__ import annotations

import pytest


@pytest.fixture
def headers(admin_headers: dict[str, str]) -> dict[str, str]:
    """Headers of a caller allowed everything: an admin (anyone, without auth)."""
    return admin_headers
