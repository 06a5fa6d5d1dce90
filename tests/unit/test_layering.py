"""Dependencies point one way (STYLE "Layout"): the pure core reaches nothing outside the standard library,
and parsers/ and channels/ import nothing from gateway/."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = {
    "gateway/core": {"gateway.core"},
}
# Business rules that sit in the core beside the orders they judge: the purity check must see them there.
CORE_RULES = ("gateway/core/restore_policy.py", "gateway/core/reason_tables.py", "gateway/core/reason_docs.py")
# What gateway/ uses and what may never use gateway/ back.
BELOW_THE_GATEWAY = ("parsers", "channels")


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, wherever the import stands (module level, in a function, under
    TYPE_CHECKING): `import a.b`, `from a.b import c`, and `importlib.import_module("a.b")` or
    `__import__("a.b")` with a literal name. Relative imports are left out: they name modules of the
    file's own top-level package (Python refuses one beyond it)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in ("import_module", "__import__"):
                names.add(node.args[0].value)
    return names


def _outside(names: set[str], allowed: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] not in sys.stdlib_module_names
            and not any(n == a or n.startswith(a + ".") for a in allowed)}


def _gateway_imports(path: Path) -> set[str]:
    return {n for n in _imports(path) if n == "gateway" or n.startswith("gateway.")}


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


def test_parsers_and_channels_import_nothing_from_the_gateway():
    offenders = {}
    for package in BELOW_THE_GATEWAY:
        files = sorted((ROOT / package).rglob("*.py"))
        assert files, f"{package}/ has no modules"
        for path in files:
            bad = _gateway_imports(path)
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_one_way_check_catches_every_form_of_importing_the_gateway(tmp_path):
    forms = {
        "from gateway.errors import ConfigError\n": {"gateway.errors"},
        "import gateway.clock\n": {"gateway.clock"},
        "import gateway\n": {"gateway"},
        "from gateway import orders\n": {"gateway"},
        "def late():\n    from gateway.orders import OrderData\n    return OrderData\n": {"gateway.orders"},
        "import typing\nif typing.TYPE_CHECKING:\n    from gateway.settings import Settings\n": {"gateway.settings"},
        "import importlib\nstore = importlib.import_module('gateway.channel_sync.feed_stores')\n":
            {"gateway.channel_sync.feed_stores"},
        "errors = __import__('gateway.errors')\n": {"gateway.errors"},
    }
    for number, (source, expected) in enumerate(forms.items()):
        module = tmp_path / f"bad{number}.py"
        module.write_text(source)
        assert _gateway_imports(module) == expected, source
    fine = tmp_path / "fine.py"
    fine.write_text('"""Built by `gateway.channel_sync.adapters`."""\nfrom channels.base import Transport\n'
                    "import gateways_elsewhere\n")
    assert _gateway_imports(fine) == set()


def test_parsers_never_touch_the_database_or_the_network():
    forbidden = {"sqlalchemy", "gateway", "paramiko", "pyftpdlib", "socket", "urllib", "http"}
    for path in sorted((ROOT / "parsers").rglob("*.py")):
        roots = {n.split(".")[0] for n in _imports(path)}
        assert not roots & forbidden, f"{path.relative_to(ROOT)} imports {sorted(roots & forbidden)}"
