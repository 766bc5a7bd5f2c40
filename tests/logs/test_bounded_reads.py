"""Reads of saved outputs are bounded and linear: no MemoryError, no endless read, no quadratic parse."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from services.capped_read import OutputTooLarge, iter_text_chunks, read_text_capped
from services.parsers.db2audit import Db2AuditParser, parse_db2audit
from tui.cli import main


def test_db2audit_report_without_any_record_parses_in_linear_time(tmp_path: Path, capsys) -> None:
    line = "x" * 60 + "\n"
    text = line * ((8 << 20) // len(line))  # 8 MB without a `timestamp=` line: 98 s for 4 MB before
    started = time.monotonic()
    assert parse_db2audit(text) == []
    assert time.monotonic() - started < 5
    path = tmp_path / "audit.txt"
    path.write_text(text)
    started = time.monotonic()
    assert main(["parse", "db2audit", str(path)]) == 2  # no record at all: a parse error, exit 2
    assert time.monotonic() - started < 10
    assert "a `timestamp=` audit record" in capsys.readouterr().err


def test_db2audit_preamble_keeps_every_line_fed_in_pieces() -> None:
    parser = Db2AuditParser()
    for piece in ("junk 1\n", "ju", "nk 2\n", "\n"):
        parser.feed(piece)
    assert parser.preamble == "junk 1\njunk 2\n\n" and parser.skipped_lines == 2
    parser.feed("more\n")
    assert parser.preamble == "junk 1\njunk 2\n\nmore\n" and parser.skipped_lines == 3


def test_parse_of_dev_zero_says_output_larger_than_the_ceiling(capsys) -> None:
    assert main(["parse", "crm_mon-xml", "/dev/zero"]) == 2
    err = capsys.readouterr().err
    assert "cannot read /dev/zero: output larger than 64 MB" in err and "Traceback" not in err


def test_parse_log_of_dev_zero_stops_at_the_first_overlong_line(capsys) -> None:
    assert main(["parse", "db2audit", "/dev/zero"]) == 2
    err = capsys.readouterr().err
    assert "cannot read /dev/zero: a line longer than 16 MB" in err


def test_capped_read_allows_exactly_the_ceiling(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("a\r\n" + "b" * ((1 << 20) - 3))
    assert len(read_text_capped(path, max_mb=1)) == (1 << 20) - 1  # CRLF read as \n, as read_text does
    path.write_text("b" * ((1 << 20) + 1))
    with pytest.raises(OutputTooLarge) as err:
        read_text_capped(path, max_mb=1)
    assert err.value.strerror.startswith("output larger than 1 MB")


def test_chunks_keep_crlf_and_refuse_only_lines_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("a" * 90 + "\r\n" + "b" * 90 + "\n", newline="")
    assert "".join(iter_text_chunks(path, 7, max_line=100)) == "a" * 90 + "\r\n" + "b" * 90 + "\n"
    path.write_text("a" * 90 + "\n" + "b" * 101)
    with pytest.raises(OutputTooLarge):
        list(iter_text_chunks(path, 7, max_line=100))


def test_parse_text_output_is_the_summary_and_json_only_with_the_flag(capsys) -> None:
    import json

    from services.parsers import PARSERS
    from services.parsers.text_summary import render_parse_text

    xml = Path(__file__).resolve().parents[1] / "parsers" / "samples"
    path = next(
        p for p in sorted(xml.rglob("*")) if p.is_file() and "crm_mon" in p.name and p.suffix == ".xml"
    )
    assert main(["parse", "crm_mon-xml", "--json", str(path)]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), dict)
    assert main(["parse", "crm_mon-xml", str(path)]) == 0  # read through the capped reader, then summarised
    text = capsys.readouterr().out
    assert text == render_parse_text("crm_mon-xml", PARSERS["crm_mon-xml"](path.read_text())) + "\n"
    assert not text.lstrip().startswith("{")
