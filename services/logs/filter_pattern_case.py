"""Case-insensitive rewrites of CloudWatch filter patterns (terms are case-sensitive on AWS).

AWS has no case-insensitive flag. A regex with character classes (`%[Ee][Rr][Rr][Oo][Rr]%`) matches any
casing, but AWS documents regex for unstructured events as a standalone pattern without parentheses or
lookarounds, so it can express "any of these words" and "these two words in any order", never "does not
contain". Patterns with -terms therefore get the best term-based approximation and say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.logs.filter_pattern import MAX_PATTERN_LENGTH, CaseSuggestion, Term

if TYPE_CHECKING:
    from services.logs.filter_pattern import FilterPattern

_PLAIN = frozenset("0123456789:_#=@/;,-")
_ESCAPE = frozenset(".*+?^$[]{}|\\")


def _ci_regex(value: str) -> str:
    """Regex body matching `value` in any letter case; raises ValueError for a character AWS's regex lacks."""
    out: list[str] = []
    for ch in value:
        if ch.isascii() and ch.isalpha():
            out.append(f"[{ch.upper()}{ch.lower()}]")
        elif ch in _PLAIN:
            out.append(ch)
        elif ch == " ":
            out.append("\\s")
        elif ch in _ESCAPE:
            out.append("\\" + ch)
        else:
            raise ValueError(ch)
    return "".join(out)


def _casings(term: Term) -> list[Term]:
    seen: list[str] = []
    for v in (term.value, term.value.lower(), term.value.upper(), term.value.capitalize()):
        if v not in seen:
            seen.append(v)
    return [Term(v, term.op, quoted=term.quoted) for v in seen]


def suggest_case_insensitive(pattern: FilterPattern) -> CaseSuggestion:
    """See FilterPattern.suggest_case_insensitive."""
    terms = pattern.terms
    if not terms:
        return CaseSuggestion(None, True, "an empty pattern already matches every event")
    if any(t.is_regex for t in terms):
        return CaseSuggestion(
            None, False, "the pattern already uses regex; write the letters as classes like [Ee]rror yourself"
        )
    if any(t.op == "not" for t in terms):
        return _approximate_exclusions(pattern)
    alternatives: list[str] = []
    overlapping: list[str] = []
    try:
        for group in pattern.groups:
            words = _distinct_words([t.value for t in group])
            parts = [_ci_regex(w) for w in words]
            if len(parts) == 1:
                alternatives.append(parts[0])
            elif len(parts) == 2:
                # [\s\S]* and not .*: a substring test finds words on different lines of a record too
                alternatives.append(f"{parts[0]}{_GAP}{parts[1]}|{parts[1]}{_GAP}{parts[0]}")
                if _can_overlap(words[0].lower(), words[1].lower()):
                    overlapping.append(f"{words[0]} / {words[1]}")
            else:
                return CaseSuggestion(
                    None,
                    False,
                    "not possible in AWS syntax: a regex without lookarounds can require at most two words in "
                    "any order (every order must be spelled out); split the pattern or drop terms",
                )
    except ValueError as exc:
        return CaseSuggestion(
            None,
            False,
            f"not possible: {str(exc)!r} cannot be written in AWS's regex subset (no parentheses/quotes)",
        )
    suggestion = "%" + "|".join(alternatives) + "%"
    if len(suggestion) > MAX_PATTERN_LENGTH:
        return CaseSuggestion(
            None, False, f"not possible: the regex would exceed AWS's {MAX_PATTERN_LENGTH} characters"
        )
    if overlapping:
        return CaseSuggestion(
            suggestion,
            False,
            "one standalone regex whose character classes match every letter case; but a regex cannot let "
            f"two words share letters ({', '.join(overlapping)}), so events where they overlap are missed",
        )
    return CaseSuggestion(
        suggestion,
        True,
        "one standalone regex (AWS allows two) whose character classes match every letter case; "
        "it finds the same events as the original in any casing",
    )


_GAP = "[\\s\\S]*"


def _distinct_words(values: list[str]) -> list[str]:
    """Drop words another word of the group contains in any case ("a" "A" "ab" -> "ab"): a substring test
    is met by the longer one, and a regex must not ask for them twice."""
    longest_first: list[str] = []
    for value in sorted(values, key=len, reverse=True):
        if not any(value.lower() in kept.lower() for kept in longest_first):
            longest_first.append(value)
    out: list[str] = []
    for value in values:  # back in the order written, each kept word once
        if value in longest_first:
            longest_first.remove(value)
            out.append(value)
    return out


def _can_overlap(a: str, b: str) -> bool:
    """True when an end of one word is a start of the other ("ab" / "bc" both sit in "abc")."""
    return any(a.endswith(b[:k]) or b.endswith(a[:k]) for k in range(1, min(len(a), len(b))))


def _approximate_exclusions(pattern: FilterPattern) -> CaseSuggestion:
    rewritten: list[str] = []
    excluded: list[str] = []
    kept: list[str] = []
    for group in pattern.groups:
        for term in group:
            if term.op == "not" and any(c.isalpha() for c in term.value):
                variants = _casings(term)
                rewritten.extend(v.written for v in variants)
                excluded.extend(v.value for v in variants)
            else:
                rewritten.append(term.written)
                if term.op != "not" and any(c.isalpha() for c in term.value):
                    kept.append(term.value)
    explanation = (
        "not exactly possible: AWS regex cannot say 'does not contain' (no lookarounds) and a regex cannot be "
        f"combined with -terms, so this excludes the common casings {', '.join(excluded)} only"
    )
    if kept:
        explanation += f"; the included term(s) {', '.join(kept)} stay case-sensitive"
        lower = [k for k in kept if k.islower()]
        if lower:
            upper = ", ".join(k.upper() for k in lower)
            explanation += f" (Db2 audit records write object names in upper case: consider {upper})"
    return CaseSuggestion(" ".join(rewritten), False, explanation)
