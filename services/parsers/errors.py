"""The one typed error every parser raises for malformed, truncated or hostile input."""

from __future__ import annotations

from collections.abc import Callable

_EXCERPT_MAX = 80


class ParseError(ValueError):
    """Input that does not have the shape of the named tool output.

    Attributes: `kind` (the parser kind, e.g. "crm_mon-xml"), `expected` (what the parser wanted),
    `line` (1-based line number or None), `excerpt` (the offending text, shortened) and `hint`
    (what the user can do next, may be empty).
    """

    def __init__(
        self,
        kind: str,
        expected: str,
        *,
        line: int | None = None,
        excerpt: str | None = None,
        hint: str = "",
    ) -> None:
        self.kind = kind
        self.expected = expected
        self.line = line
        if excerpt is not None and len(excerpt) > _EXCERPT_MAX:
            excerpt = excerpt[: _EXCERPT_MAX - 1] + "…"
        self.excerpt = excerpt
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        msg = f"{self.kind}: expected {self.expected}"
        if self.line is not None:
            msg += f" at line {self.line}"
        if self.excerpt is not None:
            msg += f": got {self.excerpt!r}"
        if self.hint:
            msg += f" ({self.hint})"
        return msg

    def __reduce__(self) -> tuple[Callable[..., ParseError], tuple[str, str, int | None, str | None, str]]:
        # keep pickling (multiprocessing, pytest-xdist) working with keyword args
        return (_rebuild, (self.kind, self.expected, self.line, self.excerpt, self.hint))


def _rebuild(kind: str, expected: str, line: int | None, excerpt: str | None, hint: str) -> ParseError:
    return ParseError(kind, expected, line=line, excerpt=excerpt, hint=hint)
