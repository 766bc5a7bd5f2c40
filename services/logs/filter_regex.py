"""AWS's filter-pattern regex subset, evaluated in linear time (no backtracking).

The subset has no parentheses, so a regex is `branch|branch|...` and a branch is a row of atoms (a
character, `.`, a class `[...]`, `\\d \\s \\w` and their negations, `^`, `$`), each with an optional
quantifier. Python's `re` backtracks: `%a*a*a*...a*b%` with 25 a's ran for minutes on one event. Here the
branches become one NFA whose state sets are turned into DFA states lazily, so one event costs one dict
lookup per character once warm, and at most O(states) work per character when not: an event of n
characters costs O(n * states) whatever the pattern.

Anchors follow Python's `re` without flags (what db2ops evaluated before): `^` only at the start of the
event, `$` at its end or before a final newline; `.` does not match a newline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["MAX_REPEAT", "MAX_STATES", "LinearRegex", "RegexTooComplex", "UnsupportedRegex", "parse_regex"]

MAX_REPEAT = 1000  # RE2 (a linear-time engine, as AWS's must be) refuses counts above 1000
MAX_STATES = 4000  # atoms after expanding counted repeats (a{1000}b{1000}... is refused, not slow)
_MAX_DFA_STATES = 2000  # cached DFA states; past it the cache starts over (memory stays bounded)

_CLASS_ESCAPES: dict[str, Callable[[str], bool]] = {
    "d": lambda c: c.isdecimal(),
    "D": lambda c: not c.isdecimal(),
    "s": lambda c: c.isspace(),
    "S": lambda c: not c.isspace(),
    "w": lambda c: c.isalnum() or c == "_",
    "W": lambda c: not (c.isalnum() or c == "_"),
}
_CHAR_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}


class UnsupportedRegex(ValueError):
    """A construct Python's `re` accepts but this evaluator (and AWS's documented subset) does not."""


class RegexTooComplex(ValueError):
    """Counted repeats that would need more than MAX_STATES states, or a count above MAX_REPEAT."""


@dataclass(frozen=True)
class _Atom:
    """One position of a branch: a character test, or an anchor (`kind` "^"/"$"); min/max repeats."""

    kind: str  # "char", "^" or "$"
    test: Callable[[str], bool] | None = None
    min: int = 1
    max: int | None = 1  # None: unbounded
    literal: str = ""  # the one character it matches, when it is a plain character


def _class_test(body: str) -> Callable[[str], bool]:
    """Return the membership test of a `[...]` body (without the brackets)."""
    negate = body.startswith("^")
    if negate:
        body = body[1:]
    chars: set[str] = set()
    ranges: list[tuple[str, str]] = []
    tests: list[Callable[[str], bool]] = []
    items: list[str | Callable[[str], bool]] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            i += 2
            if nxt in _CLASS_ESCAPES:
                items.append(_CLASS_ESCAPES[nxt])
            elif nxt in _CHAR_ESCAPES:
                items.append(_CHAR_ESCAPES[nxt])
            elif nxt.isalnum():
                raise UnsupportedRegex(f"\\{nxt} inside [...]")
            else:
                items.append(nxt)
            continue
        items.append(ch)
        i += 1
    j = 0
    while j < len(items):
        item = items[j]
        if (
            isinstance(item, str)
            and j + 2 < len(items)
            and items[j + 1] == "-"
            and isinstance(items[j + 2], str)
        ):
            end = items[j + 2]
            assert isinstance(end, str)
            ranges.append((item, end))
            j += 3
            continue
        if isinstance(item, str):
            chars.add(item)
        else:
            tests.append(item)
        j += 1
    frozen = frozenset(chars)

    def member(c: str) -> bool:
        hit = c in frozen or any(lo <= c <= hi for lo, hi in ranges) or any(t(c) for t in tests)
        return hit != negate

    return member


def _read_count(body: str, i: int) -> tuple[int, int | None, int] | None:
    """Read `{m}`, `{m,}`, `{,n}` or `{m,n}` at body[i] == '{'; return (min, max, index after) or None when
    it is a literal '{' (as in Python's re)."""
    end = body.find("}", i)
    if end < 0:
        return None
    inner = body[i + 1 : end]
    low, comma, high = inner.partition(",")
    if not (low.isdigit() or (comma and low == "")) or not (high == "" or high.isdigit()):
        return None
    if not low and not high:
        return None
    lo = int(low) if low else 0
    hi = (int(high) if high else None) if comma else lo
    if lo > MAX_REPEAT or (hi is not None and hi > MAX_REPEAT):
        raise RegexTooComplex(f"a repeat count of {max(lo, hi or 0)} (at most {MAX_REPEAT})")
    return lo, hi, end + 1


def parse_regex(body: str) -> list[list[_Atom]]:
    """Return the branches of `body`, each a list of atoms. Raises UnsupportedRegex / RegexTooComplex.
    `body` must already compile with Python's `re` (syntax errors are reported from there)."""
    branches: list[list[_Atom]] = [[]]
    i = 0
    while i < len(body):
        ch = body[i]
        atoms = branches[-1]
        if ch == "|":
            branches.append([])
            i += 1
            continue
        if ch in "*+?{":
            if ch == "{":
                count = _read_count(body, i)
                if count is None:  # a literal '{'
                    atoms.append(_Atom("char", "{".__eq__, literal="{"))
                    i += 1
                    continue
                lo, hi, i = count
            else:
                lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
                i += 1
            if i < len(body) and body[i] == "?":  # lazy: the same events match, only the span differs
                i += 1
            elif i < len(body) and body[i] == "+":
                raise UnsupportedRegex("possessive quantifiers (*+ ++ ?+ {m,n}+)")
            last = atoms[-1] if atoms else None
            if last is None or last.kind != "char" or (last.min, last.max) != (1, 1):
                raise UnsupportedRegex("a quantifier on an anchor or after another quantifier")
            if hi is not None and lo > hi:
                raise UnsupportedRegex(f"a repeat count {{{lo},{hi}}} with min above max")
            atoms[-1] = _Atom("char", last.test, lo, hi, last.literal)
            continue
        if ch in "^$":
            atoms.append(_Atom(ch))
            i += 1
        elif ch == ".":
            atoms.append(_Atom("char", "\n".__ne__))
            i += 1
        elif ch == "[":
            j = i + 1
            if j < len(body) and body[j] == "^":
                j += 1
            if j < len(body) and body[j] == "]":  # a ']' first is a literal
                j += 1
            while j < len(body) and body[j] != "]":
                j += 2 if body[j] == "\\" else 1
            atoms.append(_Atom("char", _class_test(body[i + 1 : j])))
            i = j + 1
        elif ch == "\\":
            nxt = body[i + 1]
            i += 2
            if nxt in _CLASS_ESCAPES:
                atoms.append(_Atom("char", _CLASS_ESCAPES[nxt]))
            elif nxt in _CHAR_ESCAPES:
                atoms.append(_Atom("char", _CHAR_ESCAPES[nxt].__eq__, literal=_CHAR_ESCAPES[nxt]))
            elif nxt.isalnum():
                raise UnsupportedRegex(f"\\{nxt}")
            else:
                atoms.append(_Atom("char", nxt.__eq__, literal=nxt))
        else:
            atoms.append(_Atom("char", ch.__eq__, literal=ch))
            i += 1
    return branches


def _longest_literal(branch: list[_Atom]) -> str:
    """Return the longest run of plain characters every match of `branch` contains ("" when none)."""
    best, run = "", ""
    for atom in branch:
        if atom.literal and (atom.min, atom.max) == (1, 1):
            run += atom.literal
        elif atom.literal and atom.min >= 1:  # a+ / a{3}: its first copy follows the run, its last leads on
            best = max(best, run + atom.literal, key=len)
            run = atom.literal
        else:  # optional, a class or an anchor: the run is broken
            run = ""
        best = max(best, run, key=len)
    return best


class LinearRegex:
    """A compiled regex body; `matches(text)` is Python's `re.search(body, text) is not None`, in linear time."""

    def __init__(self, body: str) -> None:
        self.body = body
        # The NFA: one row of atoms per branch, counted repeats expanded: {2,4} is two required copies and
        # two optional ones, {2,} two required and one starred. Each branch ends with an accept state.
        self._atoms: list[_Atom | None] = []  # None: accept
        self._starts: list[int] = []
        branches = parse_regex(body)
        # A text without any branch's longest run of plain characters cannot match: `in` (C speed) says so
        # for most events before the DFA reads a character.
        needles = [_longest_literal(branch) for branch in branches]
        self._needles = tuple(needles) if all(needles) else ()
        for branch in branches:
            self._starts.append(len(self._atoms))
            for atom in branch:
                copies = [_Atom(atom.kind, atom.test)] * atom.min
                if atom.max is None:
                    copies.append(_Atom(atom.kind, atom.test, 0, None))
                else:
                    copies += [_Atom(atom.kind, atom.test, 0, 1)] * (atom.max - atom.min)
                self._atoms.extend(copies)
                if len(self._atoms) > MAX_STATES:
                    raise RegexTooComplex(
                        f"more than {MAX_STATES} positions once counted repeats are expanded"
                    )
            self._atoms.append(None)
        self._reset()

    def _reset(self) -> None:
        self._sets: list[frozenset[int]] = []
        self._ids: dict[frozenset[int], int] = {}
        self._accepting: list[bool] = []
        self._next: list[dict[str, int]] = []
        self._start_mid = self._closure(self._starts, at_start=False, at_end=False)

    def _closure(self, states: Iterable[int], *, at_start: bool, at_end: bool) -> frozenset[int]:
        atoms = self._atoms
        seen: set[int] = set()
        stack = list(states)
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            atom = atoms[s]
            if atom is None:
                continue
            if atom.kind == "^":
                if at_start:
                    stack.append(s + 1)
            elif atom.kind == "$":
                if at_end:
                    stack.append(s + 1)
            elif atom.min == 0:
                stack.append(s + 1)
        return frozenset(seen)

    def _id(self, states: frozenset[int]) -> int:
        found = self._ids.get(states)
        if found is None:
            found = self._ids[states] = len(self._sets)
            self._sets.append(states)
            self._accepting.append(any(self._atoms[s] is None for s in states))
            self._next.append({})
        return found

    def _step(self, states: frozenset[int], ch: str, *, at_end: bool) -> frozenset[int]:
        """States after reading `ch` (closure included); a new match may start at the next position."""
        moved: list[int] = []
        for s in states:
            atom = self._atoms[s]
            if atom is not None and atom.kind == "char" and atom.test is not None and atom.test(ch):
                moved.append(s if atom.max is None else s + 1)
        return self._closure(moved, at_start=False, at_end=at_end) | (
            self._closure(self._starts, at_start=False, at_end=True) if at_end else self._start_mid
        )

    def matches(self, text: str) -> bool:
        """True when the regex matches somewhere in `text` (as re.search)."""
        if self._needles and not any(needle in text for needle in self._needles):
            return False
        if len(self._sets) > _MAX_DFA_STATES:
            self._reset()
        n = len(text)
        final_newline = n > 0 and text[-1] == "\n"
        current = self._closure(self._starts, at_start=True, at_end=n == 0 or (n == 1 and final_newline))
        if any(self._atoms[s] is None for s in current):
            return True
        sid = self._id(current)
        sets, accepting, table = self._sets, self._accepting, self._next
        # The last one or two characters change what `$` sees: they are stepped without the cache.
        plain = n - 2 if final_newline else n - 1
        for i in range(max(plain, 0)):
            ch = text[i]
            nxt = table[sid].get(ch)
            if nxt is None:
                nxt = table[sid][ch] = self._id(self._step(sets[sid], ch, at_end=False))
            if accepting[nxt]:
                return True
            sid = nxt
        states = sets[sid]
        for i in range(max(plain, 0), n):
            at_end = i == n - 1 or (i == n - 2 and final_newline)
            states = self._step(states, text[i], at_end=at_end)
            if any(self._atoms[s] is None for s in states):
                return True
        return False
