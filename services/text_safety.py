"""Text from outside (inventory names, remote stdout/stderr, journal lines) made safe to print or show.

A host name or a remote error can carry terminal escape sequences: `\\x1b]0;pwned\\x07` retitles the
operator's terminal, CSI sequences move the cursor or hide text, and a C1 control does the same on some
terminals. `safe_text` removes every escape sequence and every C0/C1 control character except newline and
tab, so what is printed is what was received, minus what would drive the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TextIO

# ESC sequences first (whole, so their parameters do not remain as text): CSI (ESC [ ... final),
# OSC / DCS / SOS / PM / APC strings (ESC ] ... BEL or ST), then any other two-character ESC sequence.
# The C1 forms (0x9b CSI, 0x9d OSC, ...) are matched the same way.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI: parameters, intermediates, final byte
    # OSC/DCS/...: a string up to its terminator, never past a line end (the next line is kept)
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]{0,4096}(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"  # any other ESC sequence (charset selection, keypad mode, ...)
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Printable ASCII plus newline and tab: what bytes.translate deletes to find anything else in ASCII text.
_SAFE_ASCII = bytes(range(0x20, 0x7F)) + b"\n\t"


def is_safe(text: str) -> bool:
    """True when `text` holds no escape sequence and no control character other than \\n and \\t.

    ASCII text (the usual log record) is checked in C by encode + translate, about 8x faster than the
    regex scan: the log view checks every record of a 100k-record load."""
    if text.isascii():
        return not text.encode("ascii").translate(None, _SAFE_ASCII)
    return _CONTROLS.search(text) is None


def safe_text(text: object) -> str:
    """Return `text` (str() of it) without escape sequences and C0/C1 controls other than \\n and \\t.
    Clean text is returned as is (the same object)."""
    value = text if isinstance(text, str) else str(text)
    if is_safe(value):  # the usual case (one scan, no copy): nothing to strip
        return value
    return _CONTROLS.sub("", _ESCAPES.sub("", value))


def safe_line(text: object) -> str:
    """Return safe_text(text) on one line: newlines and tabs become spaces (a name, a table cell)."""
    return safe_text(text).replace("\n", " ").replace("\t", " ")


class SafeStream:
    """A text stream that writes safe_text() of everything to `stream`: the CLI's stdout/stderr, so no
    name, remote stderr or journal line printed by a headless command can drive the terminal. Every other
    attribute (flush, isatty, encoding, fileno...) is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(safe_text(text))
        return len(text)  # what the caller gave, as io.TextIOBase.write does

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # the wrapped stream's other attributes (fileno, encoding…)
        return getattr(self.stream, name)
