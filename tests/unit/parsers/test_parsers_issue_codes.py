"""The issue-code registry: complete, well-formed, and the reference page generated from it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from parsers import CODES, make_issue, render_issue_codes_markdown

ROOT = Path(__file__).resolve().parents[3]
PRODUCT_CODES = {
    "NOT_AN_INTEGER", "NEGATIVE_QUANTITY", "EMPTY_QUANTITY", "DUPLICATE_SKU", "DUPLICATE_SKU_AGREES",
    "INVALID_SKU", "SKU_LOOKS_MANGLED", "UNKNOWN_SKU", "UNKNOWN_WAREHOUSE", "WAREHOUSE_NOT_ALLOWED",
    "MISSING_COLUMN", "EMPTY_FILE", "HEADER_ONLY", "UNREADABLE_FILE", "FILE_TOO_LARGE", "ZIP_BOMB",
    "XML_FORBIDDEN", "UNCACHED_FORMULA", "ENCODING_FALLBACK", "CLAMPED_AT_ZERO", "STALE_FILE",
    "DUPLICATE_FILE", "SNAPSHOT_GUARD", "TOO_FEW_ROWS", "ORDER_ADJUSTMENT", "INVALID_AS_OF",
    "UNSUPPORTED_FILE_TYPE", "HIDDEN_SHEET_SKIPPED", "AMBIGUOUS_COLUMN",
}


def test_every_code_the_product_uses_is_registered():
    assert PRODUCT_CODES <= set(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_code_is_upper_snake_with_a_severity_and_an_example_that_renders(code):
    entry = CODES[code]
    assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", code)
    assert entry.severity in ("error", "warning", "info") and entry.scope in ("row", "file", "sku")
    assert entry.raised_by in ("parser", "pipeline")
    fields = dict(entry.example)
    issue = make_issue(code, row=fields.pop("row", None), column=fields.pop("column", None),
                       value=fields.pop("value", None), **fields)
    assert "{" not in issue.message and issue.message == issue.message.strip()


def test_a_message_missing_a_field_is_a_clear_programming_error():
    with pytest.raises(ValueError, match="DUPLICATE_SKU needs the field 'other_row'"):
        make_issue("DUPLICATE_SKU", row=3, value="A1")


def test_the_issue_codes_page_equals_the_generated_text():
    page = (ROOT / "docs" / "issue-codes.md").read_text(encoding="utf-8")
    assert page == render_issue_codes_markdown(), "regenerate: python -m parsers.issues > docs/issue-codes.md"


def test_the_regeneration_command_prints_the_page_without_warnings():
    result = subprocess.run([sys.executable, "-m", "parsers.issues"], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    assert (result.stdout, result.stderr) == (render_issue_codes_markdown(), "")
    assert "| `ZIP_BOMB` | error | file | parser |" in result.stdout
