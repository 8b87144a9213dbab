"""Operations: liveness, readiness and metrics."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import NotFound, ServiceUnavailable

from ..extensions import db
from ..observability import Metrics
from ..schemas import Status
from . import Blueprint

blp = Blueprint("health", __name__, description="Liveness, readiness and metrics")


@blp.get("/healthz")
@blp.response(200, Status)
def healthz() -> dict[str, Any]:
    """The process is alive (no database call)."""
    return {"status": "ok"}


@blp.get("/readyz")
@blp.response(200, Status)
@blp.alt_response(503, description="The database does not answer")
def readyz() -> dict[str, Any]:
    """The service can reach its database, so it can serve requests."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("readiness check failed: database unreachable", exc_info=True)
        raise ServiceUnavailable() from None
    return {"status": "ready"}


@blp.get("/metrics")
@blp.doc(responses={200: {"description": "Prometheus text format"}})
def metrics() -> Response:
    """Request counts and latencies, for Prometheus (from METRICS_NETWORKS only)."""
    collected: Metrics = current_app.extensions["metrics"]
    if not collected.readable_by(request.remote_addr):
        raise NotFound()
    return collected.response()
