"""The pure core reaches nothing outside the standard library (STYLE: pure core, I/O at the edges)."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = {
    "gateway/core": {"gateway.core"},
    "channels/restore_policy.py": {"channels.reason_tables", "channels.restore_policy"},
    "channels/reason_tables.py": set(),
}


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


def test_restore_policy_and_reason_tables_are_pure():
    for rel in ("channels/restore_policy.py", "channels/reason_tables.py"):
        path = ROOT / rel
        if path.exists():
            assert _outside(_imports(path), PURE_PACKAGES[rel] | {"channels.reason_tables"}) == set(), rel


def test_the_layering_check_catches_an_outward_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("import sqlalchemy\nfrom gateway.db import schema\nimport json\n")
    assert _outside(_imports(module), {"gateway.core"}) == {"sqlalchemy", "gateway.db"}


def test_parsers_never_touch_the_database_or_the_network():
    forbidden = {"sqlalchemy", "gateway", "paramiko", "pyftpdlib", "socket", "urllib", "http"}
    for path in sorted((ROOT / "parsers").rglob("*.py")):
        roots = {n.split(".")[0] for n in _imports(path)}
        assert not roots & forbidden, f"{path.relative_to(ROOT)} imports {sorted(roots & forbidden)}"
