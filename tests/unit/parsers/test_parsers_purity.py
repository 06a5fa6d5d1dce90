"""The parsers are pure: bytes in, rows out; they never reach for a database, network or disk."""

import ast
from pathlib import Path

PARSERS = Path(__file__).resolve().parents[3] / "parsers"
ALLOWED = {
    "__future__", "bisect", "codecs", "collections", "csv", "dataclasses", "datetime", "decimal", "importlib", "io", "itertools",
    "lzma", "operator", "posixpath", "re", "struct", "typing", "unicodedata", "zipfile", "zlib",
    "defusedxml", "python_calamine", "parsers",
}


def test_parser_modules_import_only_the_standard_library_pieces_they_need_and_the_readers():
    imported = {}
    for path in sorted(PARSERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                imported.setdefault(name.split(".")[0], set()).add(path.name)
    outside = {name: files for name, files in imported.items() if name not in ALLOWED}
    assert outside == {}, f"parsers must stay pure; these imports reach outward: {outside}"
