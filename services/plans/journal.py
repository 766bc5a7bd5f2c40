"""The operator journal: append-only JSON lines, written ahead of every change.

Before a step sends anything, an "intent" line says what is about to be sent (the dry run's commands and
API calls) to which host / service; once it ends, an outcome line ("verified", "failed", or "interrupted"
by Ctrl-C / SIGTERM / SIGHUP) carries the same `intent_id`. An intent with no outcome is a step a killed
process (SIGKILL, power loss) was applying: JournalRead.unfinished lists them so the next run says so.

File: services.paths.journal_dir()/journal.jsonl; an embedded lab's cluster's steps go to its lab's own
journal (`journal_for(cluster)`, services.paths.lab_journal_dir()), so a lab run never mixes with real ones.
Each line says who, when (UTC), cluster, plan, run, step and the exact commands / API calls (secrets
redacted by Action.to_dict). Reading never fails on a bad line: it is reported in
`JournalRead.problems` and skipped, the other lines are kept.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.plans.step import Action

if TYPE_CHECKING:
    from services.inventory.model import Cluster

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.jsonl"
INTENT = "intent"
RESULTS = (INTENT, "applied", "verified", "failed", "interrupted")


def default_journal_dir() -> Path:
    """Return services.paths.journal_dir() (fallback ~/.local/state/db2ops/journal)."""
    try:
        from services import paths

        return paths.journal_dir()
    except (ImportError, AttributeError):  # pragma: no cover - paths.py is part of the foundation
        return Path.home() / ".local" / "state" / "db2ops" / "journal"


def journal_dir_for(cluster: Cluster) -> Path:
    """Return where `cluster`'s steps are journaled.

    A cluster of the embedded lab writes to its lab's own journal, services.paths.lab_journal_dir() of the
    directory holding the known_hosts the lab wrote, when the lab's marker there names the cluster (any
    process that loads the lab's inventory finds the same one); every other cluster to the operator
    journal, default_journal_dir(). The inventory's `lab: true` alone never moves a journal: a real cluster
    marked so by mistake would lose its records into a lab folder that each lab run empties.
    """
    from services.paths import lab_base_of, lab_journal_dir

    for host in cluster.hosts:
        base = lab_base_of(host.known_hosts, cluster.name)
        if base is not None:
            return lab_journal_dir(base)
    return default_journal_dir()


def journal_for(cluster: Cluster) -> Journal:
    """Return the Journal `cluster`'s steps go to (see journal_dir_for)."""
    return Journal(journal_dir_for(cluster))


def utc_now_iso() -> str:
    """Return the current UTC time as ISO 8601 with seconds: 2025-09-01T04:59:54Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class JournalEntry:
    """One journal line. `actions` are Action.to_dict() dicts (commands with host, API calls)."""

    who: str
    when: str
    cluster: str
    plan: str
    run_id: str
    step_id: str
    step_title: str
    target: str
    result: str  # "intent" (about to send), "verified" (applied and verified), "failed", "interrupted"
    message: str = ""
    actions: tuple[Mapping[str, Any], ...] = field(default=())
    intent_id: str = ""  # links an outcome to its intent; "" in lines written before write-ahead
    # what the step's title says, as data a screen can read back (a mute's reason and expiry); {} mostly
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_intent(self) -> bool:
        return self.result == INTENT

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict written as one line."""
        return {
            "who": self.who,
            "when": self.when,
            "cluster": self.cluster,
            "plan": self.plan,
            "run_id": self.run_id,
            "step_id": self.step_id,
            "step_title": self.step_title,
            "target": self.target,
            "result": self.result,
            "message": self.message,
            "actions": [dict(a) for a in self.actions],
            "intent_id": self.intent_id,
            **({"details": dict(self.details)} if self.details else {}),
        }

    @classmethod
    def from_dict(cls, data: object) -> JournalEntry:
        """Return the entry for a parsed line; raise ValueError when a field is missing or mistyped."""
        if not isinstance(data, dict):
            raise ValueError("line is not a JSON object")
        values: dict[str, Any] = {}
        for name in ("who", "when", "cluster", "plan", "run_id", "step_id", "step_title", "target", "result"):
            value = data.get(name)
            if not isinstance(value, str):
                raise ValueError(f"field {name!r} is missing or not text")
            values[name] = value
        if values["result"] not in RESULTS:
            raise ValueError(f"result {values['result']!r} is not one of {', '.join(RESULTS)}")
        actions = data.get("actions", [])
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            raise ValueError("field 'actions' is not a list of objects")
        message = data.get("message", "")
        intent_id = data.get("intent_id", "")
        details = data.get("details") or {}
        if not isinstance(details, dict):
            raise ValueError("field 'details' is not an object")
        return cls(
            **values,
            message=str(message),
            actions=tuple(actions),
            intent_id=str(intent_id or ""),
            details=details,
        )


@dataclass(frozen=True)
class JournalRead:
    """Entries read (file order) and one message per skipped line ("journal.jsonl line 7: ...").

    `entries` are the outcomes (what the journal screen and timeline show); `intents` the write-ahead
    lines, kept apart so each change is listed once.
    """

    entries: list[JournalEntry]
    problems: list[str]
    intents: list[JournalEntry] = field(default_factory=list)

    unfinished: list[JournalEntry] = field(default_factory=list)  # see unfinished_intents

    def all_records(self) -> list[JournalEntry]:
        """Return intents and outcomes together, oldest first (file order within the same second)."""
        return sorted([*self.intents, *self.entries], key=lambda e: e.when)


def unfinished_intents(records: Sequence[JournalEntry]) -> list[JournalEntry]:
    """Return the intents of `records` (in file order) that no outcome closes: no line with their
    intent_id, and no later outcome of the same step on the same cluster (a re-run that applied it, or
    found it done, closes it too)."""
    open_: dict[tuple[str, str, str], list[JournalEntry]] = {}
    for e in records:
        key = (e.cluster, e.plan, e.step_id)
        if e.is_intent:
            open_.setdefault(key, []).append(e)
        else:  # an outcome closes its own intent and every earlier one of the same step
            open_.pop(key, None)
    return sorted((i for intents in open_.values() for i in intents), key=lambda e: e.when)


def unfinished_line(intent: JournalEntry, verify_hint: str = "") -> str:
    """Return the operator's line for an intent with no outcome: what was being applied, where, when."""
    where = intent.target or ", ".join(sorted({str(a.get("host", "")) for a in intent.actions} - {""})) or "?"
    text = (
        f"unfinished: step {intent.step_id} on {where} was being applied at {intent.when} "
        f"(run {intent.run_id}, by {intent.who}) and no outcome was recorded; the process may have been killed"
    )
    return text + (f"; verify it: {verify_hint}" if verify_hint else "")


class Journal:
    """Appends entries to `directory`/journal.jsonl (directory default: default_journal_dir())."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else default_journal_dir()

    @property
    def path(self) -> Path:
        return self.directory / JOURNAL_FILE

    def append(self, entry: JournalEntry) -> None:
        """Append one line (a single O_APPEND write, so concurrent writers never interleave a line).

        Raises OSError when the directory cannot be created or written.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # A previous writer killed mid-line leaves no newline: start on a fresh line so ours survives.
            if os.fstat(fd).st_size and not _ends_with_newline(self.path):
                line = "\n" + line
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def record(
        self,
        *,
        who: str,
        cluster: str,
        plan: str,
        run_id: str,
        step_id: str,
        step_title: str,
        target: str,
        result: str,
        message: str = "",
        actions: Sequence[Action] = (),
        intent_id: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> JournalEntry:
        """Build an entry stamped now (UTC), append it and return it."""
        entry = JournalEntry(
            who=who,
            when=utc_now_iso(),
            cluster=cluster,
            plan=plan,
            run_id=run_id,
            step_id=step_id,
            step_title=step_title,
            target=target,
            result=result,
            message=message,
            actions=tuple(a.to_dict() for a in actions),
            intent_id=intent_id,
            details=dict(details or {}),
        )
        self.append(entry)
        return entry

    def read(self, cluster: str | None = None) -> JournalRead:
        """Return the entries (only `cluster`'s when given) and problems; a missing file is empty."""
        entries: list[JournalEntry] = []
        intents: list[JournalEntry] = []
        ordered: list[JournalEntry] = []
        problems: list[str] = []
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return JournalRead(entries, problems)
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                entry = JournalEntry.from_dict(json.loads(line.decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
                problems.append(f"{self.path} line {number}: skipped, {_short(exc)}")
                continue
            if cluster is None or entry.cluster == cluster:
                (intents if entry.is_intent else entries).append(entry)
                ordered.append(entry)
        for problem in problems:
            log.warning("operator journal: %s", problem)
        return JournalRead(entries, problems, intents, unfinished_intents(ordered))


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."


def read_journal(cluster: str | None = None, *, directory: Path | None = None) -> list[JournalEntry]:
    """Return the journal's entries (only `cluster`'s when given); bad lines are logged and skipped."""
    return Journal(directory).read(cluster).entries


# --- Markdown export ------------------------------------------------------------------------------------


def _fence(text: str, lang: str = "") -> str:
    longest = max((len(run) for run in _backtick_runs(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip(chr(10))}\n{ticks}"


def _backtick_runs(text: str) -> Iterable[str]:
    run = ""
    for ch in text:
        if ch == "`":
            run += ch
        elif run:
            yield run
            run = ""
    if run:
        yield run


def _heredoc(command: str, data: str) -> str:
    marker = "DB2OPS_EOF"
    while marker in data:
        marker += "_"
    return f"{command} <<'{marker}'\n{data.rstrip(chr(10))}\n{marker}"


def _action_markdown(action: Mapping[str, Any]) -> str:
    if action.get("kind") == "ssh":
        command = str(action.get("command", ""))
        if action.get("input") is not None:
            command = _heredoc(command, str(action["input"]))
        note = f"  # {action['note']}" if action.get("note") else ""
        return f"On `{action.get('host', '?')}`:{note}\n\n" + _fence(command, "sh")
    call = {k: action.get(k) for k in ("service", "operation", "params")}
    return f"AWS `{action.get('service')}:{action.get('operation')}`:\n\n" + _fence(
        json.dumps(call, indent=2, sort_keys=True, default=str), "json"
    )


def export_markdown(
    entries: Sequence[JournalEntry],
    *,
    title: str = "db2ops operator journal",
    unfinished: Sequence[JournalEntry] = (),
) -> str:
    """Return a Markdown runbook: one section per plan run (in order), one sub-section per step with its
    result, message and the commands (fenced sh, stdin data as a heredoc) and API calls (fenced JSON).
    `entries` may hold intent lines (shown as "about to send"); `unfinished` intents get a closing
    section. Escape sequences and control characters are removed (services.text_safety)."""
    from services.text_safety import safe_text

    lines = [f"# {title}", ""]
    if not entries:
        lines.append("_No changes recorded._")
        return safe_text("\n".join(lines) + "\n")
    runs: dict[str, list[JournalEntry]] = {}
    for entry in entries:
        runs.setdefault(entry.run_id, []).append(entry)
    for run_id, run in runs.items():
        first = run[0]
        lines += [
            f"## {first.plan} on {first.cluster} ({first.when}, by {first.who})",
            "",
            f"Run `{run_id}`.",
            "",
        ]
        for entry in run:
            word = "intent: about to send" if entry.is_intent else entry.result
            lines += [f"### {entry.step_title} [{word}]", ""]
            lines += [f"Target: `{entry.target}` · step `{entry.step_id}` · {entry.when}", ""]
            if entry.message and not entry.is_intent:
                lines += [entry.message, ""]
            for action in entry.actions:
                lines += [_action_markdown(action), ""]
    if unfinished:
        lines += ["## Unfinished", ""]
        lines += [f"- {unfinished_line(intent)}" for intent in unfinished]
    return safe_text("\n".join(lines).rstrip("\n") + "\n")
