"""A schema-driven fuzz run (schemathesis) of every operation in the seeded page's own `/openapi.json`, over
real HTTP to uvicorn: no answer is a 500, and every answer is one the document promises (status code,
content type, headers and body). Writes go in as an operator (JSON, the API's CSRF rule); reads as every
role. Examples are derandomized, so a CI run sends the same requests every time.

A route a room adds to the API is fuzzed here without this file changing."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.checks import (content_type_conformance, negative_data_rejection, not_a_server_error,
                                 response_headers_conformance, response_schema_conformance,
                                 status_code_conformance)
from seeded import start_seeded

pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# (role, mode, examples per operation): an operator may write, so it is fuzzed hardest, inputs both valid
# and not (a negative example must be refused, with a documented answer); the others see their 403s and reads
RUNS = (("operator", GenerationMode.POSITIVE, 30), ("operator", GenerationMode.NEGATIVE, 15),
        ("viewer", GenerationMode.POSITIVE, 5), ("admin", GenerationMode.POSITIVE, 10))


UPLOAD_HEADER = {"X-StockGate-Upload": "1"}       # what an API upload sends (docs/web.md)


def negative_refused(ctx, response, case):
    """schemathesis' check that input breaking the schema is refused, knowing two things about this API: the
    gate refuses an oversized body (413) before the route can say 422, and a multipart upload's negative
    (a field sent as text instead of a file) is a valid file once serialized."""
    if response.status_code in (411, 413) or case.media_type == "multipart/form-data":
        return None
    return negative_data_rejection(ctx, response, case)


def _session(browser) -> requests.Session:
    session = requests.Session()
    session.cookies.set("sg_session", browser.cookies["sg_session"], domain="127.0.0.1", path="/")
    return session


def _fuzz(operation, mode, examples: int, base_url: str, session, sent: Counter) -> str | None:
    """Run `examples` derandomized cases of one operation; the first failure in words, or None."""
    checks = CHECKS + ([negative_refused] if mode is GenerationMode.NEGATIVE else [])

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case):
        sent[operation.label] += 1
        # a write is sent as generated (the gate's refusals must be documented too), then as a script following
        # the API's rules, so that it reaches the route: JSON even without a body, an upload with its header
        passes = [{}]
        if case.method != "GET":
            passes.append({**UPLOAD_HEADER, **({"Content-Type": "application/json"} if case.body is NOT_SET else {})})
        for headers in passes:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
            try:
                case.validate_response(response, checks=checks)
            except (FailureGroup, AssertionError) as exc:
                raise AssertionError(f"{str(exc)[:1500]}\n  request: "
                                     f"{case.as_curl_command(headers, base_url=base_url)[:1500]}\n"
                                     f"  answer: {response.status_code} {response.text[:500]}") from None

    try:
        one()
    except AssertionError as exc:
        return str(exc)
    except Unsatisfiable:       # no input of this operation can break its schema (negative mode): none sent
        pass
    return None


def test_every_api_operation_answers_within_its_schema_and_never_500(site, stockgate, tmp_path):
    seeded = start_seeded(site, stockgate, tmp_path)
    base_url = f"http://127.0.0.1:{seeded.server.port}"
    document = seeded.browsers["admin"].get("/openapi.json")
    assert document.status == 200
    schema = schemathesis.openapi.from_dict(json.loads(document.body))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]

    failures, sent = [], Counter()
    for role, mode, examples in RUNS:
        session = _session(seeded.browsers[role])
        for operation in operations:
            failure = _fuzz(operation, mode, examples, base_url, session, sent)
            if failure:
                failures.append(f"{operation.label} as {role}, {mode.value} data:\n{failure}")

    print(f"fuzzed {len(operations)} operations with {sum(sent.values())} requests")
    assert not failures, "\n\n".join(failures)
    assert all(sent[op.label] > 0 for op in operations)
