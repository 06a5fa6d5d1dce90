"""docs/cancellations.md matches its generator; the order cores import only the standard library."""

import ast
import sys
from pathlib import Path

from gateway.core.reason_docs import render_cancellations_markdown
from gateway.core.reason_tables import REASON_TABLES

ROOT = Path(__file__).resolve().parents[3]
CORE_MODULES = [
    ROOT / "gateway" / "core" / "allocation.py",
    ROOT / "gateway" / "core" / "reason_tables.py",
    ROOT / "gateway" / "core" / "restore_policy.py",
    ROOT / "gateway" / "core" / "reason_docs.py",
]


def test_the_cancellations_doc_is_the_generated_one():
    written = (ROOT / "docs" / "cancellations.md").read_text(encoding="utf-8")

    assert written == render_cancellations_markdown(), (
        "regenerate with: python -m gateway.core.reason_docs > docs/cancellations.md"
    )


def test_the_cancellations_doc_lists_every_reason_of_every_marketplace():
    doc = render_cancellations_markdown()

    for marketplace, rows in REASON_TABLES.items():
        for row in rows:
            assert f"| {marketplace} | {row.reason} |" in doc


def test_the_order_cores_import_nothing_but_the_standard_library_and_each_other():
    outside = []
    for module in CORE_MODULES:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and name not in {"gateway.core.reason_tables"}:
                    outside.append(f"{module.name}: {name}")

    assert outside == []
