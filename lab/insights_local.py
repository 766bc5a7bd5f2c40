"""A small Logs Insights evaluator for the lab, where moto ignores `filter`, `parse` and `stats`.

Supports the subset the presets (and simple hand-written queries) use: `fields`/`display`, `filter` with
`like /re/`, `like "text"`, `not like`, `=~`, `=`, `!=`, `in [...]` joined by `and`/`or`/`not`, `parse
@message /re with (?<name>...)/`, `stats count(*) [as n] by bin(5m)[, field]`, `sort f [asc|desc]`,
`limit N`. Anything else raises InsightsSyntaxError saying what the lab cannot evaluate. `LabInsights` is
the services' InsightsEngine (services/logs/insights.py) built on it, which the composition root gives a
lab cluster's log service. Against real AWS none of this runs: AWS evaluates the query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from services.logs.insights import InsightsError, format_ts

Row = dict[str, Any]
LAB_EVALUATOR = "db2ops (lab: moto lacks this)"
LAB_FETCH = "fields @timestamp, @message, @logStream, @log | sort @timestamp desc | limit 10000"

_TOKEN = re.compile(
    r'\s*(/(?:\\.|[^/\\])*/|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[(),\[\]|]|[!=~<>]+|[^\s(),\[\]|"\'/!=~<>]+)'
)
_BIN_UNITS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class InsightsSyntaxError(ValueError):
    """The query is malformed, or uses a command the lab's local evaluator does not support."""


def split_commands(query: str) -> list[str]:
    """Split a query on `|` outside /regex/ and quotes; return the stripped commands (none empty).

    Raises InsightsSyntaxError for an empty command or an unterminated regex/string."""
    parts, current, quote = [], [], ""
    i = 0
    while i < len(query):
        ch = query[i]
        if quote:
            current.append(ch)
            if ch == "\\" and i + 1 < len(query):
                current.append(query[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "/\"'":
            quote = ch
            current.append(ch)
        elif ch == "|":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    if quote:
        raise InsightsSyntaxError(f"unterminated {quote}…{quote} in the query")
    parts.append("".join(current).strip())
    if any(not p for p in parts):
        raise InsightsSyntaxError("empty command between `|`: remove the extra `|`")
    return parts


def _tokens(text: str) -> list[str]:
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip():
                raise InsightsSyntaxError(f"cannot read `{text[pos:].strip()}`")
            break
        out.append(m.group(1))
        pos = m.end()
    return out


def _regex(token: str) -> re.Pattern[str]:
    body = token[1:-1]
    flags = 0
    if body.startswith("(?i)"):
        body, flags = body[4:], re.IGNORECASE
    body = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", body)  # Insights' (?<name>) is Python's (?P<name>)
    try:
        return re.compile(body, flags)
    except re.error as exc:
        raise InsightsSyntaxError(f"bad regular expression {token}: {exc}") from exc


def _literal(token: str) -> str:
    if token[:1] in "\"'" and token[-1:] == token[:1] and len(token) >= 2:
        # a backslash escapes the next character, as in Insights' strings (a stream name may hold a quote)
        return re.sub(r"\\(.)", r"\1", token[1:-1], flags=re.DOTALL)
    return token


def _condition(tokens: list[str], i: int) -> tuple[Callable[[Row], bool], int]:
    negate = False
    test: Callable[[Row], bool]
    if tokens[i].lower() == "not":
        negate, i = True, i + 1
    field = tokens[i]
    op = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
    if op == "not" and i + 2 < len(tokens) and tokens[i + 2].lower() == "like":
        negate, op, i = not negate, "like", i + 1
    if op in ("like", "=~"):
        value = tokens[i + 2]
        if value.startswith("/"):
            rx = _regex(value)
            test = lambda row: bool(rx.search(str(row.get(field, ""))))  # noqa: E731
        else:
            text = _literal(value)
            test = lambda row: text in str(row.get(field, ""))  # noqa: E731
        i += 3
    elif op in ("=", "==", "!="):
        text = _literal(tokens[i + 2])
        test = (
            (lambda row: str(row.get(field, "")) == text)
            if op != "!="
            else (lambda row: str(row.get(field, "")) != text)
        )
        i += 3
    elif op == "in" and tokens[i + 2] == "[":
        end = tokens.index("]", i + 3)
        values = {_literal(t) for t in tokens[i + 3 : end] if t != ","}
        test = lambda row: str(row.get(field, "")) in values  # noqa: E731
        i = end + 1
    else:
        raise InsightsSyntaxError(f"the lab cannot evaluate the condition `{' '.join(tokens[i : i + 3])}`")
    return ((lambda row: not test(row)) if negate else test), i


def compile_filter(expr: str) -> Callable[[Row], bool]:
    """Return a predicate for a `filter` expression (conditions joined by and/or; `and` binds tighter)."""
    tokens = _tokens(expr)
    if not tokens:
        raise InsightsSyntaxError("`filter` needs a condition, e.g. filter @message like /Error/")
    groups: list[list[Callable[[Row], bool]]] = [[]]
    i = 0
    while i < len(tokens):
        cond, i = _condition(tokens, i)
        groups[-1].append(cond)
        if i < len(tokens):
            joiner = tokens[i].lower()
            if joiner == "or":
                groups.append([])
            elif joiner != "and":
                raise InsightsSyntaxError(f"expected `and`/`or` in filter, got `{tokens[i]}`")
            i += 1
    return lambda row: any(all(c(row) for c in group) for group in groups)


def _stats(args: str) -> Callable[[list[Row]], list[Row]]:
    m = re.fullmatch(r"count\(\s*\*?\s*\)(?:\s+as\s+(\w+))?(?:\s+by\s+(.+))?", args.strip(), re.IGNORECASE)
    if m is None:
        raise InsightsSyntaxError(f"the lab evaluates only `stats count(*) by …`, not `stats {args}`")
    count_name = m.group(1) or "count(*)"
    keys = [k.strip() for k in (m.group(2) or "").split(",") if k.strip()]

    def key_of(row: Row) -> tuple[str, ...]:
        out = []
        for key in keys:
            b = re.fullmatch(r"bin\((\d+)([smhd])\)", key)
            if b:
                size = int(b.group(1)) * _BIN_UNITS[b.group(2)]
                out.append(format_ts(int(row.get("@timestamp", 0)) // size * size))
            else:
                out.append(str(row.get(key, "")))
        return tuple(out)

    def run(rows: list[Row]) -> list[Row]:
        counts: dict[tuple[str, ...], int] = {}
        for row in rows:
            k = key_of(row)
            counts[k] = counts.get(k, 0) + 1
        return [{**dict(zip(keys, k, strict=True)), count_name: str(n)} for k, n in sorted(counts.items())]

    return run


def evaluate(query: str, rows: list[Row]) -> tuple[list[str], list[Row]]:
    """Run `query` over `rows` (each with @timestamp as epoch ms, @message, @logStream, @log).

    Returns (field names, result rows with string values). Raises InsightsSyntaxError."""
    fields: list[str] = []
    steps: list[Callable[[list[Row]], list[Row]]] = []
    for command in split_commands(query):
        name, _, args = command.partition(" ")
        name = name.lower()
        if name in ("fields", "display"):
            fields = [f.strip() for f in args.split(",") if f.strip()]
        elif name == "filter":
            pred = compile_filter(args)
            steps.append(partial(_kept, pred))
        elif name == "parse":
            m = re.fullmatch(r"(@?\w+)\s+(/.*/)", args.strip())
            if m is None:
                raise InsightsSyntaxError("the lab evaluates only `parse @field /regex with (?<name>…)/`")
            src, rx = m.group(1), _regex(m.group(2))
            steps.append(partial(_parsed_all, src, rx))
            fields += [n for n in rx.groupindex if n not in fields]
        elif name == "stats":
            steps.append(_stats(args))
            fields = []
        elif name == "sort":
            m = re.fullmatch(r"(@?[\w()*]+)(?:\s+(asc|desc))?", args.strip(), re.IGNORECASE)
            if m is None:
                raise InsightsSyntaxError(f"cannot read `sort {args}`")
            key, desc = m.group(1), (m.group(2) or "asc").lower() == "desc"
            steps.append(partial(_sorted, key, desc))
        elif name == "limit":
            if not args.strip().isdigit():
                raise InsightsSyntaxError(f"`limit` needs a number, got `{args.strip()}`")
            steps.append(partial(_first, int(args)))
        else:
            raise InsightsSyntaxError(f"the lab cannot evaluate the `{name}` command (real AWS can)")
    for step in steps:
        rows = step(rows)
    if not fields:
        fields = list(dict.fromkeys(k for r in rows[:50] for k in r))
    return fields, [{f: _show(f, r.get(f, "")) for f in fields} for r in rows]


def _kept(pred: Callable[[Row], bool], rows: list[Row]) -> list[Row]:
    return [r for r in rows if pred(r)]


def _parsed_all(src: str, rx: re.Pattern[str], rows: list[Row]) -> list[Row]:
    return [_parsed(r, src, rx) for r in rows]


def _sorted(key: str, desc: bool, rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: _sort_key(r.get(key)), reverse=desc)


def _first(n: int, rows: list[Row]) -> list[Row]:
    return rows[:n]


def _parsed(row: Row, src: str, rx: re.Pattern[str]) -> Row:
    m = rx.search(str(row.get(src, "")))
    return {**row, **m.groupdict()} if m else row


def _sort_key(value: Any) -> tuple[int, float, str]:
    text = str(value if value is not None else "")
    return (0, float(text), "") if re.fullmatch(r"-?\d+(\.\d+)?", text) else (1, 0.0, text)


def _show(field: str, value: Any) -> str:
    if field == "@timestamp" and str(value).isdigit():
        return format_ts(int(value))
    return "" if value is None else str(value)


class LabInsights:
    """Logs Insights where the endpoint is the lab's moto: fetch the range's events with a plain query
    (moto understands fields/sort/limit), then evaluate the real query here (`evaluate`)."""

    evaluated_by: str | None = LAB_EVALUATOR
    truncated_note = "first 10,000 events of the range evaluated"
    filters_locally = True  # moto ignores filter patterns

    def prepare(self, query: str) -> str:
        try:
            evaluate(query, [])  # moto accepts anything: reject what db2ops cannot read before running
        except InsightsSyntaxError as exc:
            raise InsightsError(f"the query cannot run: {exc}") from exc
        return LAB_FETCH

    def results(self, query: str, raw_rows: list[Row]) -> tuple[tuple[str, ...], tuple[Row, ...]]:
        for row in raw_rows:  # moto returns @timestamp as epoch ms; AWS as text. Keep ms for the evaluator.
            ts = str(row.get("@timestamp", ""))
            row["@timestamp"] = int(ts) if ts.isdigit() else _text_ms(ts)
        try:
            fields, rows = evaluate(query, raw_rows)
        except InsightsSyntaxError as exc:
            raise InsightsError(f"the query cannot run: {exc}") from exc
        return tuple(fields), tuple(rows)


def _text_ms(text: str) -> int:
    try:
        return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        return 0
