"""XLSX memory benchmark: peak RSS and time of parsing normal and hostile workbooks, each in its own process.

    python bench/xlsx_memory.py [--root DIR] [--keep DIR] [--cap-mb MB] [--quick]

Builds, in a temporary folder (or --keep DIR, reused when the files are there):
  - normal: a 100,000-row Quantity Update (SKU, Title, 3 warehouses) written by openpyxl;
  - at_limit: a sheet of about 300 MB of XML (1,200,000 such rows), just under the default
    `files.max_sheet_mb` (320): what calamine needs for a sheet of the limit's size;
  - big_sheet: a sheet of about 400 MB of XML (1,600,000 rows), over the limit;
  - lying_zip: a sheet of 2,000,000,000 bytes of XML that declares 1,000,000 (a few MB zipped);
  - sparse_cell: a 2 KB sheet with one value at XFD1048576 (calamine would grid 17 billion cells);
  - shared_strings: a 150 KB workbook whose 20,000 cells all name one 30,000-character shared string.
Then parses each with `parsers.parse_file` from --root (default: this checkout; point it at another
checkout to compare) in a child process limited to --cap-mb of address space (default 6,000), and
prints one line per file: outcome, seconds, peak RSS: the child's own VmHWM, or, for a child that dies
before telling it, wait4's ru_maxrss (which Linux carries over fork and exec: at least this parent's size).
--quick skips at_limit and big_sheet (they take a minute to build and parse).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from own_rss import peak_mb  # noqa: E402  (bench/ is the script's folder, first on sys.path)
_CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                  b'2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                  b'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>')
_ROOT_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
              b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
              b'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
             b'relationships"><sheets><sheet name="Stock" sheetId="1" r:id="rId1"/></sheets></workbook>')
_REL = (b'<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'%s" Target="%s"/>')
_SHEET_START = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                b'spreadsheetml/2006/main"><sheetData>')
_SHEET_END = b"</sheetData></worksheet>"


def write_workbook(path: Path, sheet_parts, shared_strings: bytes | None = None) -> None:
    """A minimal workbook whose one sheet's XML is the concatenation of `sheet_parts` (streamed)."""
    rels = _REL % (1, b"worksheet", b"worksheets/sheet1.xml")
    if shared_strings is not None:
        rels += _REL % (2, b"sharedStrings", b"sharedStrings.xml")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", b'<?xml version="1.0" encoding="UTF-8"?><Relationships '
                         b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' + rels
                         + b"</Relationships>")
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for part in sheet_parts:
                sheet.write(part)


def quantity_rows(count: int):
    """Sheet XML for a header and `count` Quantity Update rows, as openpyxl writes them (inline strings)."""
    yield _SHEET_START
    yield (b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Title'
           b'</t></is></c><c r="C1" t="inlineStr"><is><t>MF</t></is></c><c r="D1" t="inlineStr"><is><t>EAST</t>'
           b'</is></c><c r="E1" t="inlineStr"><is><t>WEST</t></is></c></row>')
    batch = []
    for i in range(2, count + 2):
        batch.append(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>SKU%07d</t></is></c><c r="B%d" t="inlineStr">'
                     b'<is><t>Item %d</t></is></c><c r="C%d" t="n"><v>%d</v></c><c r="D%d" t="n"><v>%d</v></c>'
                     b'<c r="E%d" t="n"><v>%d</v></c></row>'
                     % (i, i, i - 1, i, i - 1, i, i % 500, i, (i * 7) % 500, i, (i * 13) % 500))
        if len(batch) == 10_000:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch) + _SHEET_END


def build_normal(path: Path, rows: int = 100_000) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Stock")
    sheet.append(["SKU", "Title", "MF", "EAST", "WEST"])
    for i in range(1, rows + 1):
        sheet.append([f"SKU{i:07d}", f"Item {i}", i % 500, (i * 7) % 500, (i * 13) % 500])
    workbook.save(path)


def build_lying_zip(path: Path, real: int = 2_000_000_000, declared: int = 1_000_000) -> None:
    """A sheet of `real` bytes whose local and central headers both say `declared`."""
    block = b" " * (1 << 24)
    head = _SHEET_START + b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c></row>'
    write_workbook(path, [head, *(block[: min(len(block), real - len(head) - i)]
                                  for i in range(0, real - len(head), len(block)))])
    data = bytearray(path.read_bytes())
    member = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    lie = declared.to_bytes(4, "little")
    data[member.header_offset + 22: member.header_offset + 26] = lie
    central = bytes(data).rfind(b"PK\x01\x02")
    while central >= 0:
        length = int.from_bytes(data[central + 28: central + 30], "little")
        if bytes(data[central + 46: central + 46 + length]) == member.filename.encode():
            data[central + 24: central + 28] = lie
            break
        central = bytes(data).rfind(b"PK\x01\x02", 0, central)
    path.write_bytes(bytes(data))


def build_sparse_cell(path: Path) -> None:
    write_workbook(path, [_SHEET_START, b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" '
                          b't="inlineStr"><is><t>MF</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v>'
                          b"</c></row>", _SHEET_END])


def build_shared_strings(path: Path, cells: int = 20_000, length: int = 30_000) -> None:
    strings = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
               b'2006/main"><si><t>SKU</t></si><si><t>MF</t></si><si><t>' + b"x" * length + b"</t></si></sst>")
    rows = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>2</v></c><c r="B%d"><v>1</v></c></row>' % (i, i, i)
                    for i in range(2, cells + 2))
    write_workbook(path, [_SHEET_START, b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
                          b"</row>", rows, _SHEET_END], shared_strings=strings)


FILES = {
    "normal": build_normal,
    "at_limit": lambda path: write_workbook(path, quantity_rows(1_200_000)),
    "big_sheet": lambda path: write_workbook(path, quantity_rows(1_600_000)),
    "lying_zip": build_lying_zip,
    "sparse_cell": build_sparse_cell,
    "shared_strings": build_shared_strings,
}
SLOW = {"at_limit", "big_sheet"}


def child(root: str, path: str) -> None:
    """In the child: parse the file with the parsers of `root`; print the outcome as JSON."""
    sys.path.insert(0, root)
    from parsers import parse_file

    data = Path(path).read_bytes()
    started = time.perf_counter()
    parsed = parse_file(data, Path(path).name)
    seconds = time.perf_counter() - started
    issues = [issue.code for issue in parsed.issues]
    print(json.dumps({"seconds": seconds, "rows": parsed.valid_rows, "issues": issues[:3],
                      "message": parsed.issues[0].message[:150] if parsed.rejected else "", "own_rss_mb": peak_mb()}))


def measure(root: Path, path: Path, cap_mb: int) -> dict:
    """Parse `path` in a child process capped at `cap_mb` of address space; outcome, time, peak RSS."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap_mb * 1024 * 1024, cap_mb * 1024 * 1024))

    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, "--child", str(root), str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit)
    out, err = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall": time.perf_counter() - started, "rss_mb": usage.ru_maxrss / 1024, "rss_from": "wait4"}
    if process.returncode == 0:
        result.update(json.loads(out.decode().strip().splitlines()[-1]))
        if result.get("own_rss_mb") is not None:   # the child's own VmHWM; ru_maxrss starts at this parent's size
            result["rss_mb"], result["rss_from"] = result["own_rss_mb"], "VmHWM"
    else:
        result["died"] = (signal.Signals(-process.returncode).name if process.returncode < 0
                          else f"exit {process.returncode}")
        lines = err.decode(errors="replace").strip().splitlines() or [""]
        telling = [line for line in lines if "memory allocation" in line or "Error" in line or "panicked" in line]
        result["error"] = (telling or lines)[-1:]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose parsers to measure")
    parser.add_argument("--keep", type=Path, help="build the files in this folder and keep them")
    parser.add_argument("--cap-mb", type=int, default=6_000, help="address-space limit of each child")
    parser.add_argument("--quick", action="store_true", help="skip the two large sheets")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="sg-xlsx-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for name, build in FILES.items():
            if args.quick and name in SLOW:
                continue
            path = folder / f"{name}.xlsx"
            if not path.exists():
                built = time.perf_counter()
                build(path)
                print(f"# built {path.name}: {path.stat().st_size:,} bytes in {time.perf_counter() - built:.1f} s",
                      flush=True)
            result = measure(args.root.resolve(), path, args.cap_mb)
            outcome = (f"died ({result['died']}): {result['error'][0][:120]}" if "died" in result else
                       f"{result['rows']:,} rows, {', '.join(result['issues']) or 'no issues'}"
                       + (f": {result['message']}" if result["message"] else ""))
            seconds = result.get("seconds", result["wall"])
            print(f"{name:15} {seconds:7.2f} s  peak RSS {result['rss_mb']:7,.0f} MB ({result['rss_from']})  {outcome}",
                  flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
