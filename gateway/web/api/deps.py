"""What the API rooms share: `api_router`, the answers an endpoint may give besides its own, and JSON errors."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from gateway.web.api.models import Problem
from gateway.web.deps import require_role

ERRORS = {401: {"model": Problem, "description": "not logged in"},
          403: {"model": Problem, "description": "the role does not allow it"}}


def api_router(room: str, role: str = "viewer") -> APIRouter:
    """An APIRouter under `/api/v1` for one room (its OpenAPI tag), asking for `role`."""
    return APIRouter(prefix="/api/v1", tags=[room], dependencies=[Depends(require_role(role))], responses=ERRORS)
