"""The one rule for cells a spreadsheet would run: what is dangerous, how it is written, how it reads back."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.formula_cells import is_dangerous, neutralised, read_back

HOSTILE = ["=SUM(1+1)", "+cmd|' /C calc'!A0", "@SUM(1)", "-5A", "5;=1+1", '=HYPERLINK("http://x","y")',
           "\tX", "\rX", "\0X", " =1", "A,-1", "a\n=b", "'=x", "''@y"]
HARMLESS = ["00123", "Ünï", "A-1", "a@b.com", "'abc", "O'Neil", "5;1", "", "1+1", "x;y'=z"]
# what a spreadsheet may take for the start of a cell: the text's start and whatever follows a delimiter
_CELL_STARTS = re.compile(r"[,;|\t\r\n]")


@pytest.mark.parametrize("text", HOSTILE)
def test_a_dangerous_text_is_marked_and_reads_back_exactly(text):
    assert is_dangerous(text)
    written = neutralised(text)
    assert written.startswith("'") and read_back(written) == text


@pytest.mark.parametrize("text", HARMLESS)
def test_a_harmless_text_is_written_and_read_as_it_is(text):
    assert not is_dangerous(text)
    assert neutralised(text) == text and read_back(text) == text


def test_every_part_a_spreadsheet_could_split_off_is_marked_too():
    assert neutralised("5;=1+1") == "'5;'=1+1"
    assert neutralised("a, -b|@c") == "'a,' -b|'@c"


@settings(max_examples=3000)
@given(st.text(alphabet=st.sampled_from(list("'=+-@ ,;|\t\r\n\0aZ5\u00a0Ü")), max_size=14))
def test_any_text_round_trips_and_no_written_part_starts_a_formula(text):
    written = neutralised(text)
    assert read_back(written) == text
    if not is_dangerous(text):
        assert written == text and read_back(text) == text
    assert written[:1] not in ("\t", "\r", "\0")
    assert not any(re.match(r"[ \u00a0]*[=+\-@]", part) for part in _CELL_STARTS.split(written))
