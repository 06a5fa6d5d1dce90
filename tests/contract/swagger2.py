"""Read an OpenAPI 2 (Swagger) description, as SP-API publishes its models, as the OpenAPI 3 document
openapi-core validates requests against: parameters get schemas (csv arrays become `style: form, explode:
false`), a body parameter becomes the request body, definitions become components. Only what request
validation needs is carried over; responses are not validated."""

from __future__ import annotations

import json

SCHEMA_KEYS = ("type", "format", "items", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern",
               "minItems", "maxItems", "default")


def _parameter(p: dict) -> dict:
    schema = {k: p[k] for k in SCHEMA_KEYS if k in p}
    out = {"name": p["name"], "in": p["in"], "required": bool(p.get("required")), "schema": schema}
    if p.get("type") == "array":
        fmt = p.get("collectionFormat", "csv")
        out.update({"style": "form", "explode": fmt == "multi"} if p["in"] == "query" else {"style": "simple"})
    return out


def openapi3(spec: dict) -> dict:
    """The OpenAPI 3.0 form of a Swagger 2.0 `spec` (dict), for request validation."""
    text = json.dumps(spec).replace("#/definitions/", "#/components/schemas/")
    spec = json.loads(text)
    paths = {}
    for path, ops in spec["paths"].items():
        shared = ops.get("parameters", [])
        paths[path] = {}
        for method, op in ops.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            params = shared + op.get("parameters", [])
            new = {"operationId": op.get("operationId"), "responses": {"default": {"description": "any"}},
                   "parameters": [_parameter(p) for p in params if p["in"] != "body"]}
            body = next((p for p in params if p["in"] == "body"), None)
            if body is not None:
                new["requestBody"] = {"required": bool(body.get("required")),
                                      "content": {"application/json": {"schema": body["schema"]}}}
            paths[path][method] = new
    return {"openapi": "3.0.3", "info": spec.get("info", {"title": "api", "version": "1"}),
            "servers": [{"url": "/"}], "paths": paths, "components": {"schemas": spec.get("definitions", {})}}
