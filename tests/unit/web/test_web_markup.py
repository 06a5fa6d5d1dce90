"""Every value a page shows is escaped: SKUs, file names and messages are user data."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from gateway.web import pages
from gateway.web.markup import Html, e, layout, table

HOSTILE = ["<script>alert(1)</script>", "{{7*7}}", "${7*7}", "<%= 7*7 %>", '"><img src=x onerror=alert(1)>',
           "' onmouseover='x", "&amp;"]


def file_dict(name: str, file_id: str = "20261126T083012-3fa9c1", warehouse: str | None = None) -> dict:
    return {"file_id": file_id, "name": name, "transport": "web", "account": None, "source": None,
            "warehouse": warehouse, "kind": "quantity_update", "mode": "absolute", "status": "applied",
            "message": name, "received_at": "2026-11-26T08:30:12+00:00", "as_of": None, "finished_at": None,
            "size": 10, "sha256": "0" * 64, "rows": {"total": 1, "applied": 1, "errors": 0, "warnings": 0}}


def cells(markup: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", markup)]


@given(st.text(max_size=60))
def test_any_text_in_a_table_cell_reads_back_exactly_and_opens_no_tag(value):
    markup = table(["Value"], [[value]])

    assert cells(markup) == [value]
    assert markup.count("<") == markup.count("<t") + markup.count("</t")


def test_hostile_names_show_literally_on_the_history_report_and_stock_pages():
    for value in HOSTILE:
        history = pages.history_page([file_dict(value, warehouse=value)], status="", warehouse=value,
                                     warehouses=[value], page=1, has_more=False)
        detail = pages.file_page({**file_dict(value), "report": None, "issue_count": 1,
                                  "issues": [{"row": 2, "sku": value, "column": value, "value": value, "severity": "error",
                                              "code": "UNKNOWN_SKU", "message": value}]})
        stock = pages.stock_page([{"sku": value, "warehouses": {"MF": 1}, "available": 1}], ["MF"], search=value,
                                 page=1, total=1, per_page=50)
        for markup in (history, detail, stock):
            assert html.escape(value, quote=True) in markup
            if any(c in value for c in "<>\"'"):
                assert value not in markup


def test_values_marked_as_markup_are_the_only_ones_not_escaped():
    assert e("<b>") == "&lt;b&gt;"
    assert e(Html("<b>")) == "<b>"
    assert e(None) == ""


def test_the_page_title_and_user_name_are_escaped_too():
    page = layout("<i>x</i>", Html(""), user="<u>", csrf='"tok"')

    assert "<i>x</i>" not in page and "&lt;i&gt;x&lt;/i&gt;" in page
    assert "&lt;u&gt;" in page and 'value="&quot;tok&quot;"' in page
