"""The pure core reaches nothing outside the standard library (STYLE: pure core, I/O at the edges)."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = {
    "gateway/core": {"gateway.core"},
}
# Business rules that sit in the core beside the orders they judge (STYLE "Layout"): the purity check
# below must see them there.
CORE_RULES = ("gateway/core/restore_policy.py", "gateway/core/reason_tables.py", "gateway/core/reason_docs.py")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _outside(names: set[str], allowed: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] not in sys.stdlib_module_names
            and not any(n == a or n.startswith(a + ".") for a in allowed)}


def test_gateway_core_imports_only_the_standard_library_and_itself():
    offenders = {}
    for path in sorted((ROOT / "gateway/core").rglob("*.py")):
        bad = _outside(_imports(path), PURE_PACKAGES["gateway/core"])
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_cancellation_restore_rules_and_reason_tables_sit_in_the_pure_core():
    for rel in CORE_RULES:
        path = ROOT / rel
        assert path.exists(), f"{rel} is not in gateway/core"
        assert _outside(_imports(path), PURE_PACKAGES["gateway/core"]) == set(), rel


def test_the_layering_check_catches_an_outward_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("import sqlalchemy\nfrom gateway.db import schema\nimport json\n")
    assert _outside(_imports(module), {"gateway.core"}) == {"sqlalchemy", "gateway.db"}


def test_parsers_never_touch_the_database_or_the_network():
    forbidden = {"sqlalchemy", "gateway", "paramiko", "pyftpdlib", "socket", "urllib", "http"}
    for path in sorted((ROOT / "parsers").rglob("*.py")):
        roots = {n.split(".")[0] for n in _imports(path)}
        assert not roots & forbidden, f"{path.relative_to(ROOT)} imports {sorted(roots & forbidden)}"
