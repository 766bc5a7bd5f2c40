"""The hostile-input suite's targets: every parser, the filter-pattern compiler/evaluator, the inventory and
settings loaders and every command builder, each fed hypothesis-generated input built by mutating real
samples (tests/corpus, examples/inventory.yaml): truncated, spliced, bytes flipped, hostile words inserted
(`-o…` options, escape sequences, XML entities, YAML merges), numbers made huge.

A target passes a case when it returns or raises one of its typed errors (ParseError, FilterPatternError,
InventoryError, SettingsError, the params errors, UnsafeOperand); for the builders, also a `-o…`
value the dry run puts where its tool reads options; anything else, or a case slower than the
bound, is a failure. `run_target` counts instead of stopping at the first failure, so the same code gives
the CI test's verdict (tests/test_hostile_fuzz.py, a few hundred cases) and bench/hostile_report.py's
figures (10,000 cases a target).
"""

from __future__ import annotations

import dataclasses
import gc
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder_walk import dry_run_argvs, exposed, walk_context
from corpus import REPO, corpus_files
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from services.failover.plan import build_failover_plan
from services.failover.preflight import KINDS
from services.ha_setup.params import HaParamError, HaParams
from services.ha_setup.plan import build_ha_plan
from services.inventory.loader import InventoryError, load_inventory_text
from services.inventory.model import AwsSettings, Cluster, Host
from services.inventory.names import UnsafeOperand
from services.logs.diag_entries import diag_entries_from_text
from services.logs.filter_pattern import FilterPatternError, compile_pattern
from services.monitoring.params import MonitoringParamError, MonitoringParams
from services.monitoring.plan import build_monitoring_plan
from services.parsers.corosync import parse_qdevice_tool, parse_qnetd_tool, parse_quorumtool
from services.parsers.crm_mon_xml import parse_crm_mon_xml
from services.parsers.db2audit import parse_db2audit, parse_db2audit_describe
from services.parsers.db2cm import parse_db2cm_list
from services.parsers.db2diag import parse_db2diag
from services.parsers.db2diag_fields import parse_details
from services.parsers.db2pd_hadr import parse_db2pd_hadr
from services.parsers.dbcfg import parse_dbcfg_hadr
from services.parsers.errors import ParseError
from services.settings import Settings, SettingsError, load_settings, save_settings
from services.status.model import ClusterStatus

# Words an attacker (or a broken host) puts in a value: options for the tools db2ops runs, shell syntax
# (never interpreted: argv only, but it must stay one word), terminal escapes, XML/YAML tricks, numbers
# no int/float conversion should choke on, and control characters.
HOSTILE_WORDS: tuple[str, ...] = (
    "-oProxyCommand=touch /tmp/x",
    "--help",
    "-x",
    "-",
    "--",
    "../../tmp/evil",
    "$(touch /tmp/x)",
    "`id`",
    "; rm -rf /",
    "'",
    '"',
    "\\",
    "\x1b]0;pwned\x07",
    "\x1b[2J\x1b[H",
    "\x9b31m",
    "\x1bP+q\x1b\\",
    "\x00",
    "\r",
    "\x7f",
    "\u2028",
    "\ufeff",
    "\u202e",
    "\U0010ffff",
    "9" * 400,
    "-1",
    "-9223372036854775809",
    "18446744073709551616",
    "1e999",
    "NaN",
    "inf",
    "0x7fffffff",
    "&#0;",
    "&amp;",
    "&a;",
    '<!DOCTYPE x [<!ENTITY a "b">]>',
    "<![CDATA[",
    "]]>",
    "<<: *a",
    "*a",
    "&a [1]",
    "!!python/object/apply:os.system ['id']",
    "%",
    "{",
    "[",
    "%a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b%",
    "%a{99999999999}%",
    "\t",
    " " * 300,
    "\n" * 40,
)

PLAIN_NAMES = ("db2a", "db2b", "qdev", "db2inst1", "HADRDB", "10.0.1.11", "eth0", "prod-hadr", "rtb-0123abcd")


def _read(paths: Sequence[Path]) -> tuple[str, ...]:
    return tuple(p.read_bytes().decode("utf-8", "replace") for p in paths)


# ----------------------------------------------------------------------------------------- mutations


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[str]) -> str:
    """A real sample, changed by one to three mutations (or, rarely, random text)."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.text(max_size=300))
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 3))):
        text = _mutate(draw, text, seeds)
    return text


def _at(draw: st.DrawFn, text: str) -> int:
    return draw(st.integers(0, len(text)))


def _mutate(draw: st.DrawFn, text: str, seeds: Sequence[str]) -> str:
    how = draw(
        st.sampled_from(("truncate", "splice", "flip", "insert", "number", "repeat", "delete", "line"))
    )
    if how == "truncate":
        return text[: _at(draw, text)]
    if how == "splice":  # the head of one sample, the tail of another (or of itself)
        other = draw(st.sampled_from(seeds))
        return text[: _at(draw, text)] + other[_at(draw, other) :]
    if how == "flip":  # bytes changed on the wire, decoded as db2ops decodes remote output
        raw = bytearray(text.encode())
        for _ in range(draw(st.integers(1, 8)) if raw else 0):
            raw[draw(st.integers(0, len(raw) - 1))] ^= draw(st.integers(1, 255))
        return raw.decode("utf-8", "replace")
    if how == "insert":
        word = draw(st.sampled_from(HOSTILE_WORDS) | st.text(max_size=20))
        at = _at(draw, text)
        return text[:at] + word + text[at:]
    if how == "number":  # a number of the sample made huge, negative or not a number
        digits = [i for i, c in enumerate(text) if c.isdigit()]
        if not digits:
            return text
        at = draw(st.sampled_from(digits))
        end = at
        while end < len(text) and text[end].isdigit():
            end += 1
        big = draw(st.sampled_from(("9" * 40, "-1", "0", "99999999999999999999", "1e999", "NaN", "٣")))
        return text[:at] + big + text[end:]
    if how == "repeat":  # a slice repeated: long lines, many records, deep nesting
        a = _at(draw, text)
        b = min(len(text), a + draw(st.integers(0, 200)))
        return text[:b] + text[a:b] * draw(st.integers(2, 200)) + text[b:]
    if how == "delete":
        a = _at(draw, text)
        return text[:a] + text[min(len(text), a + draw(st.integers(1, 500))) :]
    lines = text.splitlines(keepends=True)  # "line": one line dropped, duplicated or swapped
    if len(lines) < 2:
        return text
    i = draw(st.integers(0, len(lines) - 2))
    op = draw(st.sampled_from(("drop", "dup", "swap")))
    if op == "drop":
        del lines[i]
    elif op == "dup":
        lines.insert(i, lines[i])
    else:
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return "".join(lines)


def hostile_values(plain: Sequence[str] = PLAIN_NAMES) -> st.SearchStrategy[str]:
    """A value for a name or a parameter: plain, hostile, a plain name with a hostile word, or any text."""
    words = st.sampled_from(HOSTILE_WORDS)
    names = st.sampled_from(tuple(plain))
    return st.one_of(
        names,
        words,
        st.tuples(names, words).map(lambda t: t[0] + t[1]),
        st.tuples(words, names).map(lambda t: t[0] + t[1]),
        st.text(max_size=40),
    )


# ----------------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """One thing fuzzed: `run(value)` may return or raise one of `typed`; anything else is a failure."""

    name: str
    strategy: st.SearchStrategy[Any]
    run: Callable[[Any], object]
    typed: tuple[type[BaseException], ...]


def _parser(name: str, pattern: Sequence[str], parse: Callable[[str], object]) -> Target:
    seeds = _read([p for g in pattern for p in corpus_files(g)])
    return Target(name, mutated(seeds), parse, (ParseError,))


def _db2diag(text: str) -> None:
    for record in parse_db2diag(text):
        parse_details(record.raw)
    for entry in diag_entries_from_text(text):  # the log view's fast path, with what a row shows
        _ = entry.summary, entry.host, entry.record


def _db2audit(text: str) -> None:
    parse_db2audit(text)
    parse_db2audit_describe(text)


FILTER_SEEDS = (
    '"LEVEL: Error"',
    '?"LEVEL: Severe" ?"LEVEL: Critical"',
    "ERROR -DEBUG",
    '"object name=WORKER" "status=0"',
    "%LEVEL: (Error|Severe)%",
    "%[0-9]{4}-[0-9]{2}-[0-9]{2}%",
    "%^2026-.*HADR%",
    "%\\d{1,3}\\.\\d+%",
    "%a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b%",
    "%a{2,5}b?%",
    "-Info",
    "",
)


def _filter_target() -> Target:
    events = tuple(r.raw for r in parse_db2diag("\n".join(_read(corpus_files("db2diag/*.txt")))))[:40]
    strategy = st.tuples(mutated(FILTER_SEEDS), mutated(events))

    def run(case: tuple[str, str]) -> None:
        pattern = compile_pattern(case[0])
        pattern.matches(case[1])
        for event in events[:5]:
            pattern.matches(event)

    return Target("filter-pattern", strategy, run, (FilterPatternError,))


def _inventory_target() -> Target:
    seeds = ((REPO / "examples" / "inventory.yaml").read_text(encoding="utf-8"), BOMB, ALIASED)
    return Target("inventory", mutated(seeds), lambda text: load_inventory_text(text), (InventoryError,))


# YAML seeds beyond the example: a merge-key bomb (issue 11 item 4) and anchors shared between clusters
BOMB = "a: &a {x: 1, y: 2}\nb: &b {<<: [*a, *a, *a]}\nc: &c {<<: [*b, *b, *b]}\nd: &d {<<: [*c, *c, *c]}\n"
ALIASED = (
    "defaults: &d\n  read_only: true\n  instance: db2inst1\nclusters:\n"
    "  - <<: *d\n    name: a\n    database: HADRDB\n    hosts:\n"
    "      - {name: db2a, address: 10.0.1.11}\n      - {name: db2b}\n      - {name: qdev, role: qdevice}\n"
)


def _settings_target(directory: Path) -> Target:
    path = directory / "settings.yaml"
    save_settings(Settings(keymap={"refresh": "f5", "quit": "ctrl+q"}), path)
    seeds = (path.read_text(encoding="utf-8"), BOMB, "refresh_interval_s: 1e999\nlog_max_lines: -1\n")

    def run(text: str) -> None:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        load_settings(path)

    return Target("settings", mutated(seeds), run, (SettingsError,))


@st.composite
def clusters(draw: st.DrawFn) -> Cluster:
    """A cluster built in code (the loader bypassed: the builders' own checks are the second depth)."""
    value = hostile_values()
    # three distinct names: the loader refuses a repeated host name, so no builder ever sees one
    names = draw(st.lists(value, min_size=3, max_size=3, unique=True))
    hosts = (
        Host(names[0], draw(value | st.just(names[0])), instance_id=draw(value | st.just("i-0aaa"))),
        Host(names[1], draw(value | st.just(names[1])), instance_id=draw(value | st.just("i-0bbb"))),
        Host(names[2], draw(value | st.just(names[2])), role="qdevice"),
    )
    aws = AwsSettings(
        route_table_id=draw(value | st.just("rtb-0123abcd")),
        overlay_ip=draw(value | st.just("192.168.1.81")),
        audit_log_group=draw(value | st.just("db2-audit")),
        diag_log_group=draw(value | st.just("db2-diag")),
        sns_topic_name=draw(value | st.just("db2-alerts")),
    )
    return Cluster(
        name=draw(value),
        read_only=False,
        instance=draw(value | st.just("db2inst1")),
        database=draw(value | st.just("HADRDB")),
        hosts=hosts,
        aws=aws,
    )


def _field_value(f: dataclasses.Field[Any], default: object) -> st.SearchStrategy[Any]:
    """A generated value of the field's declared type (what the CLI's --set and the wizard can produce)."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(-(2**70), 2**70)
    if isinstance(default, float):
        return st.floats(allow_nan=True, allow_infinity=True)
    if "tuple" in str(f.type):
        return st.none() | st.lists(hostile_values(), max_size=3).map(tuple)
    if default is None:
        return st.none() | hostile_values()
    return hostile_values((str(default), *PLAIN_NAMES))


@st.composite
def params(draw: st.DrawFn, cls: type) -> Any:
    """`cls` (HaParams or MonitoringParams) with up to two fields set to generated values (more, and
    nearly every case stops at the params validation before any step is built)."""
    fields = dataclasses.fields(cls)
    chosen = draw(st.lists(st.sampled_from(fields), max_size=2, unique_by=lambda f: f.name))
    defaults = cls()
    return cls(**{f.name: draw(_field_value(f, getattr(defaults, f.name))) for f in chosen})


class ExposedOption(Exception):
    """A generated `-o…` value landed where the tool reads options (before `--`): counted as a failure."""


def _no_exposed_option(argvs: Sequence[tuple[str, ...]]) -> None:
    for argv in argvs:
        if exposed(argv, "ProxyCommand"):
            raise ExposedOption(f"{exposed(argv, 'ProxyCommand')} is read as an option in {argv}")


def _plan_target(
    name: str, build: Callable[..., Any], cls: type, error: type[Exception], journal: Path
) -> Target:
    plain = st.just(
        Cluster(
            name="prod-hadr",
            read_only=False,
            database="HADRDB",
            hosts=(
                Host("db2a", "10.0.1.11", instance_id="i-0aaa"),
                Host("db2b", "10.0.2.12", instance_id="i-0bbb"),
                Host("qdev", "10.0.3.13", role="qdevice"),
            ),
            aws=AwsSettings(route_table_id="rtb-0123abcd", overlay_ip="192.168.1.81"),
        )
    )

    def run(case: tuple[Cluster, Any]) -> None:
        cluster, values = case
        plan = build(cluster, values)
        _no_exposed_option(dry_run_argvs(plan.steps, walk_context(cluster, journal))[0])

    return Target(name, st.tuples(clusters() | plain, params(cls)), run, (error, UnsafeOperand))


def _failover_target(journal: Path) -> Target:
    @st.composite
    def case(draw: st.DrawFn) -> tuple[Cluster, str | None, str, bool]:
        cluster = draw(clusters())
        target = draw(st.sampled_from([h.name for h in cluster.hosts]) | st.none() | hostile_values())
        return cluster, target, draw(st.sampled_from(KINDS)), draw(st.booleans())

    def run(value: tuple[Cluster, str | None, Any, bool]) -> None:
        cluster, target, kind, clear = value
        status = ClusterStatus(cluster.name, 0.0)
        plan = build_failover_plan(cluster, status, target, kind=kind, clear_constraints=clear)
        _no_exposed_option(dry_run_argvs(plan.steps, walk_context(cluster, journal))[0])

    return Target("failover-plan", case(), run, (UnsafeOperand,))


def targets(workdir: Path) -> list[Target]:
    """Every target, in report order. `workdir`: a scratch directory (settings file, journal path)."""
    return [
        _parser(
            "crm_mon-xml", ["crm_mon-xml/*", "pacemaker-lab/0[1-6]*/*--output-as=xml.xml"], parse_crm_mon_xml
        ),
        _parser("quorum", ["pacemaker-lab/*/*quorumtool_-s.txt"], parse_quorumtool),
        _parser(
            "qdevice",
            ["corosync-qdevice/qdevice-*", "pacemaker-lab/*/*qdevice-tool_-s*.txt"],
            parse_qdevice_tool,
        ),
        _parser(
            "qnetd", ["corosync-qdevice/qnetd-*", "pacemaker-lab/*/*qnetd-tool_-l*.txt"], parse_qnetd_tool
        ),
        _parser("db2pd-hadr", ["db2pd-hadr/*"], parse_db2pd_hadr),
        _parser("db2cm-list", ["db2cm-list/*"], parse_db2cm_list),
        _parser("dbcfg-hadr", ["db2-dbcfg-hadr/*"], parse_dbcfg_hadr),
        _parser("db2diag", ["db2diag/*"], _db2diag),
        _parser("db2audit", ["db2audit/*"], _db2audit),
        _filter_target(),
        _inventory_target(),
        _settings_target(workdir),
        _plan_target("ha-plan", build_ha_plan, HaParams, HaParamError, workdir / "journal"),
        _plan_target(
            "monitoring-plan",
            build_monitoring_plan,
            MonitoringParams,
            MonitoringParamError,
            workdir / "journal",
        ),
        _failover_target(workdir / "journal"),
    ]


# ----------------------------------------------------------------------------------------- running


class CaseTooSlow(Exception):
    """Raised into a case that ran past the hard limit (a hang would otherwise stop the whole run)."""


@contextmanager
def _hard_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` of CPU time (SIGPROF; only in the main thread, else no limit).
    CPU time, not wall time: on a loaded machine a descheduled case is not a slow one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise CaseTooSlow(f"still running after {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


@dataclass
class Figures:
    """What one target's run gave: cases tried, failures (untyped errors or slower than the bound)."""

    name: str
    cases: int = 0
    typed_errors: int = 0
    failures: list[str] = field(default_factory=list)  # one description per failure (kept: the first 20)
    failure_count: int = 0
    slowest_s: float = 0.0
    slowest_input: str = ""


def _short(value: object) -> str:
    """repr() of `value`, dataclasses with only their fields that differ from the defaults."""
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_short, value)) + ")"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = []
        for f in dataclasses.fields(value):
            current = getattr(value, f.name)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                changed.append(f"{f.name}={_short(current)}")
            elif current != (f.default if f.default is not dataclasses.MISSING else f.default_factory()):
                changed.append(f"{f.name}={_short(current)}")
        return f"{type(value).__name__}({', '.join(changed)})"
    return repr(value)


def _describe(value: object, limit: int = 300) -> str:
    text = _short(value)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


def run_target(
    target: Target, cases: int, bound_s: float, *, seed: int | None = None, deadline_ms: float | None = None
) -> Figures:
    """Run `cases` generated cases of `target`; count rather than stop at failures.

    A case fails when it raises anything but `target.typed` or takes more than `bound_s` of CPU time (a
    hang is cut at 10 x bound_s); the slowest case is kept. `deadline_ms` is hypothesis' own deadline (the CI test sets one). `seed` makes the
    run repeatable.
    """
    figures = Figures(target.name)

    def fail(value: object, what: str) -> None:
        figures.failure_count += 1
        if len(figures.failures) < 20:
            figures.failures.append(f"{what}\n  input: {_describe(value, 1500)}")

    @settings(
        max_examples=cases,
        deadline=deadline_ms,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(target.strategy)
    def one(value: Any) -> None:
        figures.cases += 1
        # The cyclic GC is paused for the case: a full collection of hypothesis' own objects would
        # otherwise land on whichever case is running and be reported as its time.
        gc.disable()
        start = time.process_time()
        try:
            with _hard_limit(bound_s * 10):
                target.run(value)
        except target.typed:
            figures.typed_errors += 1
        except CaseTooSlow as exc:
            fail(value, f"hang: {exc}")
        except Exception as exc:  # noqa: BLE001 - an untyped error is exactly what is counted
            where = traceback.extract_tb(exc.__traceback__)[-1]
            fail(value, f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})")
        finally:
            elapsed = time.process_time() - start
            gc.enable()
        if elapsed > figures.slowest_s:
            figures.slowest_s, figures.slowest_input = elapsed, _describe(value, 120)
        if elapsed > bound_s:
            fail(value, f"slow: {elapsed * 1000:.0f} ms CPU (bound {bound_s * 1000:.0f} ms)")

    (one if seed is None else hypothesis_seed(seed)(one))()
    return figures


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    """A scratch directory for targets() (the settings file the settings target rewrites per case)."""
    return tempfile.TemporaryDirectory(prefix="db2ops-hostile-")
