"""The operator journal: one JSON line per applied (or failed) step, append-only.

File: services.paths.journal_dir()/journal.jsonl; a lab cluster's steps go to its lab's own journal
(`journal_for(cluster)`, services.paths.lab_journal_dir()), so a lab run never mixes with real ones.
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
RESULTS = ("applied", "verified", "failed")


def default_journal_dir() -> Path:
    """Return services.paths.journal_dir() (fallback ~/.local/state/db2ops/journal)."""
    try:
        from services import paths

        return paths.journal_dir()
    except (ImportError, AttributeError):  # pragma: no cover - paths.py is part of the foundation
        return Path.home() / ".local" / "state" / "db2ops" / "journal"


def journal_dir_for(cluster: Cluster) -> Path:
    """Return where `cluster`'s steps are journaled.

    A lab cluster (`cluster.lab`) writes to its lab's own journal, services.paths.lab_journal_dir() of the
    directory holding the known_hosts the lab wrote (any process that loads the lab's inventory finds the
    same one); every other cluster to the operator journal, default_journal_dir().
    """
    if not cluster.lab:
        return default_journal_dir()
    from services.paths import lab_journal_dir

    known = next((h.known_hosts for h in cluster.hosts if h.known_hosts), None)
    return lab_journal_dir(Path(known).parent if known else None)


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
    result: str  # "applied", "verified" (applied and verified) or "failed"
    message: str = ""
    actions: tuple[Mapping[str, Any], ...] = field(default=())

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
        return cls(**values, message=str(message), actions=tuple(actions))


@dataclass(frozen=True)
class JournalRead:
    """Entries read (file order) and one message per skipped line ("journal.jsonl line 7: ...")."""

    entries: list[JournalEntry]
    problems: list[str]


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
        )
        self.append(entry)
        return entry

    def read(self, cluster: str | None = None) -> JournalRead:
        """Return the entries (only `cluster`'s when given) and problems; a missing file is empty."""
        entries: list[JournalEntry] = []
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
                entries.append(entry)
        for problem in problems:
            log.warning("operator journal: %s", problem)
        return JournalRead(entries, problems)


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


def export_markdown(entries: Sequence[JournalEntry], *, title: str = "db2ops operator journal") -> str:
    """Return a Markdown runbook: one section per plan run (in order), one sub-section per step with its
    result, message and the commands (fenced sh, stdin data as a heredoc) and API calls (fenced JSON)."""
    lines = [f"# {title}", ""]
    if not entries:
        lines.append("_No changes recorded._")
        return "\n".join(lines) + "\n"
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
            lines += [f"### {entry.step_title} [{entry.result}]", ""]
            lines += [f"Target: `{entry.target}` · step `{entry.step_id}` · {entry.when}", ""]
            if entry.message:
                lines += [entry.message, ""]
            for action in entry.actions:
                lines += [_action_markdown(action), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
