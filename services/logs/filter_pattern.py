"""CloudWatch Logs filter patterns for unstructured events, evaluated locally (no AWS call).

Semantics follow AWS's FilterAndPatternSyntax page: terms are case-sensitive substrings; terms
separated by spaces must all match; `-term` excludes; `?term` is OR; terms with characters other than
letters, digits and underscore go in double quotes; `%regex%` is AWS's regex subset (no parentheses, at
most 2 per pattern); an empty pattern matches every event. JSON (`{ $.x = ... }`) and space-delimited (`[a, b]`) patterns are refused.

Mixing `?` with plain or `-` terms is not spelled out by AWS; db2ops reads it the way AWS's own CDK
writes "any of these term groups" (FilterPattern.anyTermGroup renders (A and B) or (C and D) as
`?"A" "B" ?"C" "D"`): each `?term` opens an alternative and the plain/`-` terms after it belong to it;
terms before the first `?term` form an alternative of their own. Such patterns get a warning telling the
DBA to confirm on AWS (TestMetricFilter) before trusting an alarm to them.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from services.logs.filter_regex import MAX_REPEAT, LinearRegex, RegexTooComplex, UnsupportedRegex

__all__ = [
    "CaseSuggestion",
    "FilterPattern",
    "FilterPatternError",
    "Term",
    "check_cost",
    "compile_pattern",
    "filter_events",
]

MAX_REGEX_TERMS = 2
MAX_PATTERN_LENGTH = 1024  # AWS limit for a filter pattern
# AWS's regex subset: alphanumerics, these symbols and these operators; `(` `)` and spaces are refused.
_REGEX_ALLOWED = re.compile(r"[A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+.]*")
# AWS: "terms that include characters other than alphanumeric or underscore must be placed inside double quotes"
_ALNUM = re.compile(r"[A-Za-z0-9_]+")
_TYPOGRAPHIC = {
    "\u2013": ("EN DASH", "-"),
    "\u2014": ("EM DASH", "-"),
    "\u2212": ("MINUS SIGN", "-"),
    "\u201c": ("LEFT DOUBLE QUOTATION MARK", '"'),
    "\u201d": ("RIGHT DOUBLE QUOTATION MARK", '"'),
    "\uff1f": ("FULLWIDTH QUESTION MARK", "?"),
}
_DB2_LEVELS = {"Critical", "Severe", "Error", "Warning", "Info", "Event"}
_TEST_ON_AWS = "test it on AWS with TestMetricFilter (aws logs test-metric-filter)"


class FilterPatternError(ValueError):
    """A pattern the evaluator cannot read; the message says what is wrong and how to fix it."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Term:
    """One term: `text` (substring) or `regex`; `op` is "and", "not" or "or"."""

    value: str
    op: str = "and"
    is_regex: bool = False
    quoted: bool = False
    compiled: LinearRegex | None = field(default=None, compare=False, repr=False)

    def hit(self, message: str) -> bool:
        if self.compiled is not None:
            return self.compiled.matches(message)
        return self.value in message

    @property
    def written(self) -> str:
        """The term as it would be written in a pattern (with its operator)."""
        prefix = {"and": "", "not": "-", "or": "?"}[self.op]
        if self.is_regex:
            return f"{prefix}%{self.value}%"
        if self.quoted or not _ALNUM.fullmatch(self.value):
            return prefix + '"' + self.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return prefix + self.value


@dataclass(frozen=True, slots=True)
class CaseSuggestion:
    """A case-insensitive rewrite: `pattern` (None when impossible), `exact` when it is fully
    case-insensitive, and `explanation` of what it covers and why."""

    pattern: str | None
    exact: bool
    explanation: str


@dataclass(frozen=True)
class FilterPattern:
    """A compiled unstructured filter pattern. `groups` are OR-ed; the terms of a group are AND-ed."""

    text: str
    terms: tuple[Term, ...]
    groups: tuple[tuple[Term, ...], ...]
    warnings: list[str] = field(default_factory=list, compare=False)

    def matches(self, message: str) -> bool:
        """True when the event message matches (an empty pattern matches everything)."""
        if not self.groups:
            return True
        for group in self.groups:
            for term in group:
                if term.hit(message) == (term.op == "not"):
                    break
            else:
                return True
        return False

    def suggest_case_insensitive(self) -> CaseSuggestion:
        """Return a case-insensitive rewrite of this pattern, or say why AWS syntax cannot express it."""
        from services.logs.filter_pattern_case import suggest_case_insensitive

        return suggest_case_insensitive(self)


def _typographic_error(text: str) -> None:
    for ch, (name, meant) in _TYPOGRAPHIC.items():
        pos = text.find(ch)
        if pos >= 0:
            fixed = text
            for bad, (_, good) in _TYPOGRAPHIC.items():
                fixed = fixed.replace(bad, good)
            fixed = re.sub(r"(?<![^\s])([-?])\s+(?=\S)", r"\1", fixed)
            raise FilterPatternError(
                f"the pattern contains {ch!r} ({name}, U+{ord(ch):04X}) at column {pos + 1}: AWS does not "
                f"read it as {meant!r} (a copy from a word processor?). Write it with plain ASCII, e.g. {fixed!r}",
                pos,
            )


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """Read a double-quoted phrase starting at text[i] == '"'; return (value, index after it)."""
    out: list[str] = []
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text) and text[j + 1] in '"\\':
            out.append(text[j + 1])
            j += 2
            continue
        if ch == '"':
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    raise FilterPatternError(
        f"unterminated quoted term starting at column {i + 1}: add the closing double quote", i
    )


_COUNT = re.compile(r"\{(\d*),?(\d*)\}")


def _compile_regex(body: str, pos: int) -> LinearRegex:
    if not body:
        raise FilterPatternError(
            f"empty regex %% at column {pos + 1}: put an expression between the % signs", pos
        )
    if "(" in body or ")" in body:
        raise FilterPatternError(
            f"regex %{body}% uses parentheses, which AWS does not support (no groups or sub-patterns): "
            "use alternation without grouping, e.g. %ERROR|SEVERE%, or character classes like [Ee]rror",
            pos,
        )
    if not _REGEX_ALLOWED.fullmatch(body):
        bad = next(ch for ch in body if not _REGEX_ALLOWED.fullmatch(ch))
        raise FilterPatternError(
            f"regex %{body}% contains {bad!r}, which AWS's regex syntax does not allow (only letters, digits, "
            ":_#=@/;,- and the operators ^$?[]{}|\\*+.): use \\s for a space or a character class",
            pos,
        )
    for m in _COUNT.finditer(body):  # before re.compile, which overflows on {99999999999}
        counts = [int(g) for g in m.groups() if g]
        if counts and max(counts) > MAX_REPEAT:
            raise FilterPatternError(
                f"regex %{body}% repeats {max(counts)} times in {m.group(0)}; at most {MAX_REPEAT} "
                "(the limit of linear-time regex engines): use a smaller count or + / *",
                pos,
            )
    try:
        with (
            warnings.catch_warnings()
        ):  # "possible nested set" for [[a]: AWS and the evaluator read '[' literally
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(body)  # syntax errors in the words Python users know
    except (re.error, OverflowError, RecursionError) as exc:
        raise FilterPatternError(f"regex %{body}% is not valid: {exc}; fix the expression", pos) from None
    try:
        return LinearRegex(body)
    except UnsupportedRegex as exc:
        raise FilterPatternError(
            f"regex %{body}% uses {exc}, which AWS's regex syntax does not document: use only characters, "
            ". [...] \\d \\s \\w (and \\D \\S \\W), ^ $ | and the quantifiers ? * + {m,n}",
            pos,
        ) from None
    except RegexTooComplex as exc:
        raise FilterPatternError(
            f"regex %{body}% is too large to evaluate: {exc}; use smaller repeat counts", pos
        ) from None


def _tokenize(text: str) -> list[Term]:
    terms: list[Term] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        op = "and"
        if text[i] in "-?":
            op = "not" if text[i] == "-" else "or"
            i += 1
            if i >= n or text[i].isspace():
                raise FilterPatternError(
                    f"{text[start]!r} at column {start + 1} is not attached to a term: write it right before "
                    f"the term with no space, e.g. {text[start]}appusr",
                    start,
                )
            if text[i] in "-?":
                raise FilterPatternError(
                    f"{text[start : i + 1]!r} at column {start + 1}: a term takes one operator, - (exclude) or ? (or)",
                    start,
                )
        if text[i] == '"':
            value, i = _read_quoted(text, i)
            terms.append(Term(value, op, quoted=True))
        elif text[i] == "%":
            end = text.find("%", i + 1)
            if end < 0:
                raise FilterPatternError(
                    f"unterminated regex starting at column {i + 1}: add the closing %", i
                )
            body = text[i + 1 : end]
            terms.append(Term(body, op, is_regex=True, compiled=_compile_regex(body, i)))
            i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            word = text[i:j]
            if not _ALNUM.fullmatch(word):
                hint = ""
                if re.fullmatch(r"\w+(\?\w+)+", word):
                    hint = f"; to match any of them separate the terms: ?{' ?'.join(word.split('?'))}"
                raise FilterPatternError(
                    f"term {word!r} at column {i + 1} has characters other than letters, digits and _: AWS needs it in "
                    f'double quotes, e.g. {text[start:i]}"{word}"{hint}',
                    i,
                )
            terms.append(Term(word, op))
            i = j
        if i < n and not text[i].isspace():
            raise FilterPatternError(
                f"missing space after the term ending at column {i}: separate terms with a space", i
            )
    return terms


def _group(terms: list[Term]) -> tuple[tuple[Term, ...], ...]:
    if not any(t.op == "or" for t in terms):
        return (tuple(terms),) if terms else ()
    groups: list[list[Term]] = []
    current: list[Term] = []
    for term in terms:
        if term.op == "or":
            if current:
                groups.append(current)
            current = [term]
        else:
            current.append(term)
    groups.append(current)
    return tuple(tuple(g) for g in groups)


def _case_warnings(terms: list[Term]) -> list[str]:
    out: list[str] = []
    for t in terms:
        if t.is_regex or not re.search(r"[A-Za-z]", t.value):
            continue
        variants = sorted({t.value.lower(), t.value.upper(), t.value.capitalize()} - {t.value})
        others = " / ".join(variants)
        # Db2 folds unquoted identifiers to upper case: audit records say authid=APPUSR, object name=WORKER.
        db2_hint = t.value.islower() and " " not in t.value
        if t.op == "not":
            msg = f"{t.written} is case-sensitive: it does not exclude events that contain only {others}"
            if db2_hint:
                msg += f" (Db2 audit records write authids in upper case, e.g. authid={t.value.upper()})"
        else:
            msg = f"{t.written} is case-sensitive: it misses events that contain only {others}"
            if db2_hint:
                msg += f" (Db2 audit records write object names in upper case, e.g. object name={t.value.upper()})"
        out.append(msg)
        if t.value in _DB2_LEVELS and t.op != "not":
            out.append(
                f"{t.written} matches the db2diag level `LEVEL: {t.value}` but also any event with "
                f'{t.value!r} anywhere in its text; to match the level only use "LEVEL: {t.value}"'
            )
    return out


def compile_pattern(text: str) -> FilterPattern:
    """Compile an unstructured CloudWatch Logs filter pattern.

    Returns a FilterPattern (with `warnings` about traps); raises FilterPatternError for JSON or
    space-delimited patterns, typographic dashes/quotes, unquoted non-alphanumeric terms, unbalanced
    quotes or %, regex outside AWS's subset, or more than two regex terms.
    """
    stripped = text.strip()
    if len(stripped) > MAX_PATTERN_LENGTH:
        raise FilterPatternError(
            f"the pattern is {len(stripped)} characters long; AWS allows {MAX_PATTERN_LENGTH}"
        )
    if stripped.startswith("{"):
        raise FilterPatternError(
            "JSON filter patterns ({ $.field = value }) are not supported by db2ops' evaluator; "
            + _TEST_ON_AWS
        )
    if stripped.startswith("["):
        raise FilterPatternError(
            "space-delimited filter patterns ([field1, field2, ...]) are not supported by db2ops' evaluator; "
            + _TEST_ON_AWS
            + '; to match a literal "[" put the term in double quotes'
        )
    _typographic_error(text)
    terms = _tokenize(text)
    regexes = sum(1 for t in terms if t.is_regex)
    if regexes > MAX_REGEX_TERMS:
        raise FilterPatternError(
            f"the pattern has {regexes} regex terms; AWS allows at most {MAX_REGEX_TERMS} per pattern: "
            "merge them with | inside one %...%"
        )
    warnings = _case_warnings(terms)
    if regexes and len(terms) > 1:
        warnings.append(
            "AWS documents %regex% as a standalone pattern for unstructured events; combined with other terms "
            f"or negated it may be refused or read differently: {_TEST_ON_AWS}"
        )
    groups = _group(terms)
    if len(groups) > 1 and any(t.op != "or" for t in terms):
        readable = " OR ".join("(" + " AND ".join(_describe(t) for t in g) + ")" for g in groups)
        warnings.append(
            f"AWS does not document how ?terms combine with plain or -terms; db2ops reads this pattern as "
            f"{readable} (each ?term opens an alternative, as AWS CDK writes term groups): {_TEST_ON_AWS}"
        )
    return FilterPattern(text=text, terms=tuple(terms), groups=groups, warnings=warnings)


def _describe(term: Term) -> str:
    shown = f"%{term.value}%" if term.is_regex else repr(term.value)
    return f"NOT {shown}" if term.op == "not" else shown


def check_cost(
    pattern: FilterPattern,
    texts: Sequence[str],
    *,
    budget_s: float = 2.0,
    sample_s: float = 0.25,
    clock: Callable[[], float] = time.perf_counter,
) -> None:
    """Raise FilterPatternError ("pattern too expensive") when matching `pattern` against every text would
    take longer than `budget_s`, judged by timing it on the first texts for at most `sample_s`.

    Evaluation is linear in the text, but a regex with large counted repeats can cost thousands of steps
    per character; a screen calls this before filtering a large log on its event loop.
    """
    if not any(t.is_regex for t in pattern.terms):
        return
    done = 0
    start = clock()
    elapsed = 0.0
    for text in texts:
        pattern.matches(text)
        done += len(text) + 1
        elapsed = clock() - start
        if elapsed > sample_s:
            break
    else:
        return
    total = sum(len(t) + 1 for t in texts)
    estimate = elapsed * total / done
    if estimate > budget_s:
        raise FilterPatternError(
            f"pattern too expensive: about {estimate:.0f} s to filter {len(texts)} events (budget "
            f"{budget_s:g} s); simplify the regex (smaller repeat counts, fewer alternatives) or narrow the "
            "sources and levels first"
        )


def filter_events(pattern: str | FilterPattern, messages: Iterable[str]) -> list[int]:
    """Return the indexes of the messages the pattern matches. Raises FilterPatternError for a bad pattern."""
    compiled = compile_pattern(pattern) if isinstance(pattern, str) else pattern
    return [i for i, message in enumerate(messages) if compiled.matches(message)]
