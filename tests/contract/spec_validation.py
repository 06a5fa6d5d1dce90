"""Validate the requests a contract server receives against the vendor's published OpenAPI description.

The descriptions live in `../shared/specs/<vendor>/` beside the repository (or `STOCKGATE_SPECS_DIR`);
when that folder is absent `SpecValidator.available` is False, the contract servers answer without
validating, and the tests that prove the validation skip, saying so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qsl

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathNotFound, OperationNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

ROOT = Path(__file__).resolve().parents[2]


def specs_dir() -> Path:
    """Where the vendors' schemas are: `STOCKGATE_SPECS_DIR`, else `../shared/specs` beside the repository."""
    if os.environ.get("STOCKGATE_SPECS_DIR"):
        return Path(os.environ["STOCKGATE_SPECS_DIR"])
    return ROOT.parent / "shared" / "specs"


def _load(path: Path) -> dict:
    """An OpenAPI description from JSON, or from YAML (eBay publishes YAML) for a `.yml`/`.yaml` file."""
    if path.suffix in (".yml", ".yaml"):
        import yaml

        return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return json.loads(path.read_text())


class _Request:
    """What openapi-core reads of a request (its Request protocol), built from the raw HTTP parts so header
    names keep their dots and underscores (`WM_SEC.ACCESS_TOKEN`), which a WSGI environ would mangle."""

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes):
        self.host_url = "http://127.0.0.1"
        self.path = path
        self.full_url_pattern = self.host_url + path
        self.method = method.lower()
        self.parameters = RequestParameters(query=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)),
                                            header=Headers(list(headers.items())), cookie=ImmutableMultiDict(),
                                            path={})
        self.content_type = headers.get("Content-Type") or headers.get("content-type") or "application/json"
        self.body = body


class SpecValidator:
    """Requests checked against the OpenAPI files `names` of one vendor folder; `patch` adjusts each
    loaded description (e.g. the security scheme) before use."""

    _loaded: dict = {}

    @classmethod
    def cached(cls, vendor: str, names: tuple[str, ...], patch=lambda spec: spec) -> "SpecValidator":
        """One validator per vendor and files for the whole test run (the descriptions take a while to load)."""
        key = (vendor, names)
        if key not in cls._loaded:
            cls._loaded[key] = cls(vendor, names, patch)
        return cls._loaded[key]

    def __init__(self, vendor: str, names: tuple[str, ...], patch=lambda spec: spec):
        folder = specs_dir() / vendor
        self.folder = folder
        self.available = all((folder / n).is_file() for n in names)
        self._apis = []
        if self.available:
            for name in names:
                spec = _load(folder / name)
                spec["servers"] = [{"url": "/"}]
                # the vendor's own document is not checked as a document: Walmart's examples break its schemas
                # (epoch-ms numbers for date-time strings), which newer openapi-spec-validator releases refuse
                self._apis.append(OpenAPI.from_dict(patch(spec), config=Config(spec_validator_cls=None)))

    def covers_and_errors(self, method: str, path: str, query: str, headers: dict[str, str],
                          body: bytes) -> tuple[bool, str | None]:
        """(whether a description has this operation, its validation error or None)."""
        request = _Request(method, path, query, headers, body)
        for api in self._apis:
            try:
                api.validate_request(request)
            except (PathNotFound, OperationNotFound):
                continue
            except Exception as exc:  # openapi-core's validation errors carry their causes
                if "PathNotFound" in type(exc.__cause__).__name__ or "OperationNotFound" in type(exc).__name__:
                    continue
                details = [getattr(e, "message", str(e)) for e in getattr(exc, "schema_errors", ()) or ()]
                cause = exc.__cause__
                details += [getattr(e, "message", str(e)) for e in getattr(cause, "schema_errors", ()) or ()]
                return True, f"{type(exc).__name__}: {exc}" + (f" ({'; '.join(details)})" if details else "")
            return True, None
        return False, None
