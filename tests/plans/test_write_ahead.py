"""Write-ahead journal: a step's intent (what it is about to send, to whom) is on disk before anything is
sent; its outcome is a second line linked by intent_id; an intent without an outcome (a SIGKILLed run) is
reported by the next run with the verify it offers, and closed when a later apply finds the step done."""

from __future__ import annotations

import io
from pathlib import Path

from plans.fakes import FakeRunner, WriteFileStep, make_cluster
from services.plans import Journal, Plan, PlanContext, run_plan
from services.plans.headless import print_plan_report
from services.plans.journal import export_markdown
from services.plans.journal_text import render_journal_text


def _plan(cluster) -> Plan:
    db2a, db2b = cluster.db_hosts
    steps = [WriteFileStep(host, "/etc/a", "A\n") for host in (db2a, db2b)]
    return Plan(
        name="monitoring",
        cluster=cluster,
        steps=steps,
        rerun_hint="db2ops setup monitoring --cluster c1 --apply",
    )


class JournalSpy(FakeRunner):
    """A FakeRunner that, on every write (tee), notes the journal lines already on disk."""

    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal
        self.seen_before_write: list[list[tuple[str, str]]] = []

    async def run(self, host, argv, **kw):
        if argv[0] == "tee":
            read = self.journal.read()
            self.seen_before_write.append(sorted((e.step_id, e.result) for e in read.intents + read.entries))
        return await super().run(host, argv, **kw)


async def test_the_intent_is_journaled_before_the_first_command_is_sent(tmp_path: Path) -> None:
    cluster = make_cluster()
    journal = Journal(tmp_path / "journal")
    runner = JournalSpy(journal)
    ctx = PlanContext(cluster=cluster, runner=runner, journal=journal, operator="alice")
    result = await run_plan(_plan(cluster), ctx, mode="apply", state_dir=tmp_path)
    assert result.ok
    first, second = (s.step_id for s in result.steps)
    assert runner.seen_before_write == [
        [(first, "intent")],
        sorted([(first, "intent"), (first, "verified"), (second, "intent")]),
    ]
    read = journal.read()
    intent, outcome = read.intents[0], read.entries[0]
    # the intent names what the dry run shows, to which host; the outcome links to it
    assert [(a["host"], a["command"]) for a in intent.actions] == [("db2a", "tee /etc/a")]
    assert intent.target == "db2a" and intent.who == "alice"
    assert outcome.intent_id == intent.intent_id == f"{result.run_id}/{first}"
    assert read.unfinished == []


def _killed_mid_step(cluster, journal: Journal, step_id: str) -> None:
    """What `kill -9` mid-step leaves: the intent line, no outcome."""
    journal.record(
        who="bob", cluster=cluster.name, plan="monitoring", run_id="20261206T010000Z-abcdef", step_id=step_id,
        step_title="write /etc/a", target="db2a", result="intent", intent_id=f"20261206T010000Z-abcdef/{step_id}",
    )  # fmt: skip


async def test_the_next_run_reports_an_unfinished_intent_and_offers_its_verify(tmp_path: Path) -> None:
    cluster = make_cluster()
    journal = Journal(tmp_path / "journal")
    plan = _plan(cluster)
    victim = plan.steps[0].id
    _killed_mid_step(cluster, journal, victim)
    result = await run_plan(
        plan, PlanContext(cluster=cluster, runner=FakeRunner(), journal=journal), mode="dry-run"
    )
    assert [i.step_id for i in result.unfinished] == [victim]
    out = io.StringIO()
    print_plan_report(result, out, with_actions=True)
    lines = out.getvalue().splitlines()
    assert lines[1] == (
        f"unfinished: step {victim} on db2a was being applied at {result.unfinished[0].when} "
        "(run 20261206T010000Z-abcdef, by bob) and no outcome was recorded; the process may have been killed; "
        "verify it: db2ops setup monitoring --cluster c1 --dry-run shows its state"
    )
    assert lines[2] == "  its check now: not done (apply sends it again): file missing" or lines[
        2
    ].startswith("  its check now: not done")
    assert result.to_dict()["unfinished"][0]["step_id"] == victim
    # `db2ops journal` (text and Markdown) says the same
    read = journal.read()
    text = render_journal_text(read.all_records(), read.unfinished)
    assert "INTENT      about to send" in text and f"unfinished: step {victim} on db2a" in text
    assert "--dry-run shows its state" in text
    assert "## Unfinished" in export_markdown(read.all_records(), unfinished=read.unfinished)


async def test_an_apply_that_finds_the_unfinished_step_done_closes_its_intent(tmp_path: Path) -> None:
    cluster = make_cluster()
    journal = Journal(tmp_path / "journal")
    plan = _plan(cluster)
    victim = plan.steps[0].id
    runner = FakeRunner()
    runner.files[("db2a", "/etc/a")] = "A\n"  # the killed run's tee had landed
    _killed_mid_step(cluster, journal, victim)
    result = await run_plan(plan, PlanContext(cluster=cluster, runner=runner, journal=journal), mode="apply")
    assert result.ok and result.by_id(victim).status == "already_done"
    read = journal.read()
    assert read.unfinished == []
    closing = next(e for e in read.entries if e.intent_id == "20261206T010000Z-abcdef/" + victim)
    assert closing.result == "verified" and "found done" in closing.message


async def test_journal_lines_written_before_write_ahead_still_read(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.path.parent.mkdir(parents=True, exist_ok=True)
    journal.path.write_text(
        '{"who":"a","when":"2025-01-01T00:00:00Z","cluster":"c","plan":"p","run_id":"r","step_id":"s",'
        '"step_title":"t","target":"h","result":"verified","actions":[]}\n'
    )
    read = journal.read()
    assert [(e.result, e.intent_id) for e in read.entries] == [("verified", "")] and read.problems == []
