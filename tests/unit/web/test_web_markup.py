"""Every value a page shows is escaped by the Jinja2 templates: SKUs, file names and messages are user data."""

from __future__ import annotations

import html
import re

from hypothesis import given
from markupsafe import escape
from hypothesis import strategies as st

from gateway.web.rooms.dashboard import files_rows
from gateway.web.rooms.files import _counts, _facts
from gateway.web.templating import render_text

HOSTILE = ["<script>alert(1)</script>", "{{7*7}}", "${7*7}", "<%= 7*7 %>", '"><img src=x onerror=alert(1)>',
           "' onmouseover='x", "&amp;", "{% raw %}", "{# x #}"]
PAGE = {"active": "", "refresh_seconds": None, "user": None, "logout_csrf": None}


def file_dict(name: str, file_id: str = "20261126T083012-3fa9c1", warehouse: str | None = None) -> dict:
    return {"file_id": file_id, "name": name, "transport": "web", "account": None, "source": None,
            "warehouse": warehouse, "kind": "quantity_update", "mode": "absolute", "status": "applied",
            "message": name, "received_at": "2026-11-26T08:30:12+00:00", "as_of": None, "finished_at": None,
            "size": 10, "sha256": "0" * 64, "rows": {"total": 1, "applied": 1, "errors": 0, "warnings": 0}}


def cells(markup: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", markup)]


def history(value: str) -> str:
    asked = {"status": "", "warehouse": value, "transport": "", "account": value, "since": "", "until": "",
             "name": value}
    params = {k: v for k, v in asked.items() if v}
    return render_text("history/index.html", **PAGE, title=value, asked=asked, params=params, status_options=[],
                       transport_options=[], warehouse_options=[(value, value)],
                       files_rows=files_rows([file_dict(value, warehouse=value)]),
                       found={"total": 60, "page": 1, "pages": 2, "has_more": True})


def report(value: str) -> str:
    f = {**file_dict(value), "report": None, "issue_count": 1, "forced_from": None, "reruns": [], "sheet": value,
         "actions": {"release": True, "reject": True, "reprocess": True, "preview": True},
         "issues": [{"row": 2, "sku": value, "column": value, "value": value, "severity": "error",
                     "code": "UNKNOWN_SKU", "message": value}]}
    issue_rows = [[i["row"], i["sku"], i["column"], i["value"], ("badge", i["severity"]), i["code"], i["message"]]
                  for i in f["issues"]]
    return render_text("files/report.html", **PAGE, title=f"Report: {value}", f={**f, "status": "held"},
                       facts=_facts(f), counts=_counts(f), issue_rows=issue_rows, waiting=False, csrf=value,
                       acting=True, issues={"page": 1, "pages": 2, "per_page": 1, "total": 2})


def stock(value: str) -> str:
    return render_text("stock/index.html", **PAGE, title="Inventory", search=value, codes=[value],
                       rows=[[value, value, "1", "1"]], numeric=(2, 3), next_after=value, prev_before=value)


@given(st.text(max_size=60))
def test_any_text_in_a_table_cell_reads_back_exactly_and_opens_no_tag(value):
    markup = stock(value)
    table = re.search(r"<tbody>(.*)</tbody>", markup, re.S).group(1)

    assert cells(table)[0] == value
    assert table.count("<") == table.count("<t") + table.count("</t")


def test_hostile_names_show_literally_on_the_history_report_and_stock_pages():
    for value in HOSTILE:
        for markup in (history(value), report(value), stock(value)):
            assert str(escape(value)) in markup
            if any(c in value for c in "<>\"'"):
                assert value not in markup
            assert "49" not in markup.replace("3fa9c1", "")     # nothing evaluated


def test_the_page_title_and_user_name_are_escaped_too():
    page = render_text("message.html", active="", refresh_seconds=None, title="<i>x</i>", text="t", user="<u>",
                       logout_csrf='"tok"')

    assert "<i>x</i>" not in page and "&lt;i&gt;x&lt;/i&gt;" in page
    assert "&lt;u&gt;" in page and 'value="&#34;tok&#34;"' in page
