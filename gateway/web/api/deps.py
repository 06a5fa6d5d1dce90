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

# What `middleware.Shield` answers an API write before any route sees it (JSON `{"detail"}` like the rest)
GATE_WRITE_ANSWERS = {"403": "a post from another site (its Origin is not this page)",
                      "411": "a post without a Content-Length", "413": "a body larger than 64 KB",
                      "415": "a body that is not application/json (every write, even one without a body: the "
                             "API's CSRF protection)"}
GATE_ANSWERS = {"400": "a NUL character in the path, the query or the body (`nul_guard`)",
                "401": "not logged in", "503": "the database is not answering: try again"}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def with_gate_answers(document: dict) -> dict:
    """`document` (the app's OpenAPI) with the answers the gate and the error handlers give every API
    operation, so a client (and the fuzz run) finds every status it can get documented with its body."""
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            extra = {**GATE_ANSWERS, **(GATE_WRITE_ANSWERS if method != "get" else {})}
            responses = operation.setdefault("responses", {})
            for code, description in extra.items():
                responses.setdefault(code, {"description": description,
                                            "content": {"application/json": {"schema": PROBLEM_REF}}})
    return document
