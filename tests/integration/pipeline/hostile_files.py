"""Workbooks built to exhaust memory, and `stockgate ingest` run in a child process whose peak RSS is measured.

The child is capped (RLIMIT_AS) so that a parser which does not bound its memory fails fast instead of
taking the test machine down; its peak RSS comes from wait4, so a child that dies is measured too.
"""

from __future__ import annotations

import io
import json
import re
import os
import signal
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

CAP_MB = 3_000
_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = (b'<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/%s" '
        b'Target="%s"/>')
SHEET_START = b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + _NS + b"><sheetData>"
SHEET_END = b"</sheetData></worksheet>"
HEADER = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>MF</t></is>'
          b"</c></row>")


def workbook(sheet_parts, shared_strings: bytes | None = None) -> bytes:
    """A minimal workbook whose sheet 'Stock' is the concatenation of `sheet_parts` (streamed into the zip)."""
    rels = _REL % (1, b"worksheet", b"worksheets/sheet1.xml")
    if shared_strings is not None:
        rels += _REL % (2, b"sharedStrings", b"sharedStrings.xml")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                         b'content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
                         b'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                         b'spreadsheetml.sheet.main+xml"/></Types>')
        archive.writestr("_rels/.rels", b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                         b'relationships">' + _REL % (1, b"officeDocument", b"xl/workbook.xml") + b"</Relationships>")
        archive.writestr("xl/workbook.xml", b"<workbook " + _NS + b' xmlns:r="http://schemas.openxmlformats.org/'
                         b'officeDocument/2006/relationships"><sheets><sheet name="Stock" sheetId="1" r:id="rId1"/>'
                         b"</sheets></workbook>")
        archive.writestr("xl/_rels/workbook.xml.rels", b'<Relationships xmlns="http://schemas.openxmlformats.org/'
                         b'package/2006/relationships">' + rels + b"</Relationships>")
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for part in sheet_parts:
                sheet.write(part)
    return buffer.getvalue()


def quantity_rows(first: int, count: int) -> bytes:
    return b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>S%07d</t></is></c><c r="B%d"><v>%d</v></c></row>'
                    % (n, n, n, n, n % 100) for n in range(first, first + count))


def lying_zip(real: int, declared: int) -> bytes:
    """A workbook whose sheet holds `real` bytes of XML while its zip headers say `declared`."""
    block = b" " * (1 << 22)
    parts = [SHEET_START + HEADER, *(block for _ in range(real // len(block))), SHEET_END]
    data = bytearray(workbook(parts))
    member = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    lie = declared.to_bytes(4, "little")
    data[member.header_offset + 22: member.header_offset + 26] = lie
    central = bytes(data).rfind(b"PK\x01\x02")
    while bytes(data[central + 46: central + 46 + len(member.filename)]) != member.filename.encode():
        central = bytes(data).rfind(b"PK\x01\x02", 0, central)
    data[central + 24: central + 28] = lie
    return bytes(data)


def one_far_cell(ref: bytes) -> bytes:
    """A workbook of a header and one value at `ref` (calamine grids every cell up to it)."""
    row = b"".join(ch for ch in (bytes([c]) for c in ref) if ch.isdigit())
    return workbook([SHEET_START, HEADER, b'<row r="%s"><c r="%s"><v>1</v></c></row>' % (row, ref), SHEET_END])


def repeated_shared_string(cells: int, length: int) -> bytes:
    """`cells` SKU cells that all name one shared string of `length` characters."""
    strings = (b"<sst " + _NS + b"><si><t>SKU</t></si><si><t>MF</t></si><si><t>" + b"x" * length + b"</t></si></sst>")
    body = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>2</v></c><c r="B%d"><v>1</v></c></row>' % (n, n, n)
                    for n in range(2, cells + 2))
    return workbook([SHEET_START, b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>',
                     body, SHEET_END], shared_strings=strings)


@dataclass
class ChildRun:
    code: int | None          # exit status, None when the child was killed by a signal
    died: str | None          # the signal's name
    report: dict | None       # the report document `ingest --json` printed
    peak_rss_mb: float
    stderr: str


# The child: the address-space cap set in the new interpreter (no preexec_fn, so no fork of the test process's
# pages), then `stockgate`, then its peak RSS (VmHWM) written to stderr as it exits.
CHILD = """
import atexit, resource, runpy, sys
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("\\nSTOCKGATE_TEST_VMHWM_KB " + line.split()[1] + "\\n")
atexit.register(peak)
sys.argv = ["stockgate"] + sys.argv[2:]
runpy.run_module("gateway", run_name="__main__", alter_sys=True)
"""


def ingest_in_child(config: Path, path: Path, *args: str, cap_mb: int = CAP_MB) -> ChildRun:
    """`python -m gateway --config CONFIG ingest PATH ARGS --json` in a child process capped at `cap_mb`."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([sys.executable, "-c", CHILD, str(cap_mb * 1024 * 1024), "--config", str(config),
                                    "ingest", str(path), *args, "--json"], stdout=subprocess.PIPE, stderr=errors)
        out = process.stdout.read()
        process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)   # not Popen.wait: wait4 gives the child's peak RSS
        errors.seek(0)
        err = errors.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    code = process.returncode if process.returncode >= 0 else None
    died = signal.Signals(-process.returncode).name if process.returncode < 0 else None
    report = json.loads(out) if out.strip().startswith(b"{") else None
    text = err.decode(errors="replace")
    hwm = re.findall(r"^STOCKGATE_TEST_VMHWM_KB (\d+)$", text, re.M)
    # the child's own high-water mark; ru_maxrss would count the parent's pages the fork began with
    peak_kb = int(hwm[-1]) if hwm else usage.ru_maxrss
    text = re.sub(r"\n?STOCKGATE_TEST_VMHWM_KB \d+\n", "", text)
    run = ChildRun(code, died, report, peak_kb / 1024, text[-2000:])
    print(f"child ingest of {Path(path).name}: {died or code}, peak RSS {run.peak_rss_mb:.0f} MB")
    return run
