"""Faults injected mid-run into the HA setup plan and the guided failover (issue 11's fault suite), shared by
tests/faults/test_ha_faults.py, tests/faults/test_failover_faults.py and bench/fault_report.py.

Each Case starts an embedded lab (real SSH servers on 127.0.0.1, moto) behind tests/fault_proxy.py and runs
the headless command as `db2ops setup ha --apply` / `db2ops failover --apply --json` do (their functions,
over a ConsoleContext with short settings). The fault starts mid-run:
- on a host: a TriggeredRunner puts the host's proxy in the case's mode just before a chosen command is
  sent ("before": it never arrives, or arrives into a stall) or just after it answered ("after": the change
  is made, the step's verify then meets the fault);
- on AWS: the moto proxy is armed on a request (HttpFaults.arm) and injects from there (30% throttling,
  30% 500s, all throttled, a stall, a drop, a reset, a lost reply).
Then the checks (`CaseResult.problems`, empty when the case holds): no exception out of the command, an exit
code of 0 or 1, a failed step whose message names the host or the AWS call and a next step saying to
re-run, the journal with an outcome for every intent and both for every step sent, the report listing
what was sent; after the fault heals, a re-run (a new process would use a new SSH pool: so does this)
completes, with no duplicate route, IAM policy, policy version or attachment, and no duplicate cluster
configuration; for the failover, the cluster ends on the target (promoted, HADR primary, route).
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fault_proxy import HttpFaults, ProxiedLab

from services.context import ConsoleContext
from services.inventory.model import Host
from services.plans import Journal
from services.settings import Settings

CLUSTER = "lab1"
STALL_S = 4.0  # ssh_command_timeout_s / status_deadline_s of the runs: a stalled host ends here
AWS_DEADLINE_S = 8.0  # aws_call_deadline_s: a stalled AWS call ends here (generous for a loaded machine)
RUN_BOUND_S = (
    240.0  # a faulted run must end by then (a stalled AWS call alone took 150 s before the deadline)
)
SLOW_DELAY_S = 0.02
SSH_MODES = ("drop", "reset", "stall", "slow")
AWS_MODES = ("throttle", "500", "throttle-all", "stall", "drop", "reset", "lose-reply")
MUST_FAIL = {"drop", "reset", "stall", "throttle-all"}
MUST_PASS = {"slow", "lose-reply"}  # a slow link, and a create whose answer was lost, still complete
NEXT_STEP_WORDS = ("re-run", "try again")


@dataclass(frozen=True)
class Case:
    """One fault: which plan, where (a host or AWS), at which point of the run, and how."""

    plan: str  # "ha" or "failover"
    where: str  # a host name, or "aws"
    point: str  # what the fault hits (a step id, or a failover phase)
    mode: str  # SSH_MODES or AWS_MODES
    trigger: str  # "before:WORDS" / "after:WORDS" (a host command with each of the comma-separated
    # WORDS as an argument; WORD* within one), or an AWS Action name
    must_fail: bool = False
    must_pass: bool = False

    @property
    def name(self) -> str:
        return f"{self.plan}-{self.point}-{self.where}-{self.mode}"


@dataclass
class CaseResult:
    case: Case
    problems: list[str] = field(default_factory=list)
    first_code: int | None = None
    first_message: str = ""
    seconds: float = 0.0  # the whole case: lab start, faulted run, re-run, checks
    run_seconds: float = 0.0  # the faulted run alone (a stall ends at its timeout, not minutes later)
    injected: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _ha_cases() -> list[Case]:
    cases = []
    for mode in SSH_MODES:  # a host command step: the tarball unpacked, the fault before `dnf install`
        cases.append(Case("ha", "db2b", "pcmk-install@db2b", mode, "before:epel-release*", *_expect(mode)))
    for mode in SSH_MODES:  # the cluster created, the fault before its verify reads it back
        cases.append(Case("ha", "db2a", "db2cm-cluster", mode, "after:-create,-cluster", *_expect(mode)))
    for point, action, modes in (
        ("src-dst-check@db2a", "ModifyInstanceAttribute", AWS_MODES),
        ("iam-policy", "CreatePolicy", ("stall", "drop", "lose-reply")),
        ("iam-attach", "AttachRolePolicy", AWS_MODES),  # after CreatePolicy: not created again
        ("overlay-route", "CreateRoute", AWS_MODES),
    ):
        for mode in modes:
            cases.append(Case("ha", "aws", point, mode, action, *_expect(mode)))
    return cases


def _expect(mode: str) -> tuple[bool, bool]:
    return mode in MUST_FAIL, mode in MUST_PASS


def _failover_cases() -> list[Case]:
    cases = []
    for mode in SSH_MODES:  # preflight: the target's CIB constraints read
        cases.append(
            Case("failover", "db2b", "preflight", mode, "before:cibadmin,constraints", *_expect(mode))
        )
    for mode in SSH_MODES:  # act: the takeover never arrives / arrives and its answer is lost
        cases.append(Case("failover", "db2b", "act", mode, "before:takeover", *_expect(mode)))
        cases.append(Case("failover", "db2b", "act-answered", mode, "after:takeover", *_expect(mode)))
    for mode in ("drop", "stall"):  # verify: the old primary (now the standby) goes away while it polls
        cases.append(Case("failover", "db2a", "verify", mode, "after:takeover"))
    for mode in ("throttle-all", "500-all", "stall", "drop"):  # verify: every route read of the polls fails
        cases.append(Case("failover", "aws", "verify", mode, "after:takeover", True))
    return cases


HA_CASES = _ha_cases()
FAILOVER_CASES = _failover_cases()


class TriggeredRunner:
    """A HostRunner over `inner` that calls `fire()` once: just before the first command matching
    `match` is sent ("before"), or just after it answered ("after")."""

    def __init__(
        self, inner: Any, match: Callable[[Host, Sequence[str]], bool], fire: Callable[[], None], when: str
    ) -> None:
        self.inner, self.match, self.fire, self.when = inner, match, fire, when
        self.fired = False
        self.sent: list[tuple[str, str]] = []  # (host, command) of every command passed on

    async def run(self, host: Host, argv: Sequence[str], **kwargs: Any) -> Any:
        hit = not self.fired and self.match(host, argv)
        if hit and self.when == "before":
            self.fired = True
            self.fire()
        self.sent.append((host.name, " ".join(argv)))
        result = await self.inner.run(host, argv, **kwargs)
        if hit and self.when == "after":
            self.fired = True
            self.fire()
        return result

    def reset_backoff(self, host: Host | None = None) -> int:
        return self.inner.reset_backoff(host) if hasattr(self.inner, "reset_backoff") else 0


def _settings() -> Settings:
    return Settings(
        ssh_connect_timeout_s=STALL_S,
        ssh_command_timeout_s=STALL_S,
        status_deadline_s=STALL_S,
        aws_call_deadline_s=AWS_DEADLINE_S,
        ssh_keepalive_s=0,
    )


def _inject(front: ProxiedLab, case: Case) -> Callable[[], None]:
    """What firing the case does."""
    if case.where != "aws":
        proxy = front.host_proxy(CLUSTER, case.where)
        return lambda: proxy.set_mode(case.mode, delay_s=SLOW_DELAY_S)
    http = front.aws.http  # type: ignore[union-attr]

    def arm() -> None:
        _arm_http(http, case.mode, b"")

    return arm


def _arm_http(http: HttpFaults, mode: str, pattern: bytes) -> None:
    if mode == "throttle":
        http.throttle = 0.3
    elif mode == "500":
        http.server_error = 0.3
    elif mode == "throttle-all":
        http.throttle = 1.0
    elif mode == "500-all":
        http.server_error = 1.0
    http.arm(pattern, mode if mode in ("stall", "drop", "reset", "lose-reply") else "")


def heal(front: ProxiedLab) -> None:
    """The fault is over: AWS faults off, every proxy passes, and connections the fault left stalled are
    closed (what they held is never delivered late)."""
    if front.aws is not None and front.aws.http is not None:
        front.aws.http.heal()
    for proxy in front.proxies():
        proxy.set_mode("pass")
        proxy.drop_all()


def _matcher(case: Case) -> tuple[Callable[[Host, Sequence[str]], bool], str]:
    when, _, words = case.trigger.partition(":")
    host = "db2b" if case.plan == "failover" else case.where  # every failover trigger is on the target

    def holds(argv: Sequence[str], word: str) -> bool:
        return any(word[:-1] in a for a in argv) if word.endswith("*") else word in argv

    return (lambda h, argv: h.name == host and all(holds(argv, w) for w in words.split(","))), when


async def _guarded(result: CaseResult, what: str, run: Callable[[], Any]) -> Any:
    """Await run(); an exception out of the command is a problem (a crash), and so is passing the bound."""
    try:
        return await asyncio.wait_for(run(), RUN_BOUND_S)
    except TimeoutError:
        result.problems.append(f"{what}: still running after {RUN_BOUND_S:g} s")
    except Exception:
        result.problems.append(f"{what}: crashed: {traceback.format_exc(limit=6)}")
    return None


def _check_journal(result: CaseResult, journal: Journal, report: dict[str, Any]) -> None:
    read = journal.read(CLUSTER)
    if read.problems:
        result.problems.append(f"journal problems: {read.problems}")
    if read.unfinished:
        result.problems.append(f"intents without an outcome: {[i.step_id for i in read.unfinished]}")
    run_id = report.get("run_id")
    steps = report.get("steps") or []
    for step in steps:
        if step.get("status") not in ("applied", "failed") or not run_id:
            continue
        if step["status"] == "failed" and step.get("message", "").startswith(
            ("could not check", "cannot build")
        ):
            continue  # its check failed: nothing was sent, nothing journaled
        iid = f"{run_id}/{step['id']}"
        intents = [i for i in read.intents if i.intent_id == iid]
        outcomes = [e for e in read.entries if e.intent_id == iid]
        if len(intents) != 1 or len(outcomes) != 1:
            result.problems.append(f"{step['id']}: {len(intents)} intent(s), {len(outcomes)} outcome(s)")
            continue
        sent = [a.get("command") or a.get("operation") for a in step.get("performed", [])]
        recorded = [a.get("command") or a.get("operation") for a in outcomes[0].actions]
        if sent != recorded:
            result.problems.append(f"{step['id']}: report says {sent} was sent, journal says {recorded}")


def _check_failure(
    result: CaseResult, case: Case, code: int | None, report: dict[str, Any], text: str
) -> None:
    if code is None:
        return
    if "Traceback" in text:
        result.problems.append("a traceback in the output")
    if code not in (0, 1):
        result.problems.append(f"exit code {code}")
    if case.must_fail and code != 1:
        result.problems.append(f"exit code {code} where the fault must fail the run")
    if case.must_pass and code != 0:
        result.problems.append(f"exit code {code} where the run must complete despite the fault")
    if code != 1:
        return
    failed = [s for s in report.get("steps") or [] if s.get("status") == "failed"]
    message = failed[0]["message"] if failed else str(report.get("message", ""))
    result.first_message = message
    if not message:
        result.problems.append("a failure without a message")
    hint = str(report.get("next") or report.get("message") or "")
    if not any(w in (hint + message).lower() for w in NEXT_STEP_WORDS):
        result.problems.append(f"no next step in {hint!r}")
    if case.where == "aws":
        names_it = any(w in message for w in ("AWS", "aws", ":", "route", "endpoint", "127.0.0.1"))
    else:
        names_it = case.where in message or (failed and failed[0].get("target") == case.where)
    if not names_it:
        result.problems.append(f"the error does not name {case.where}: {message!r}")


async def _lab(base: Path, *, fresh_ha: bool) -> tuple[Any, ProxiedLab]:
    from moto.moto_api._internal.models import moto_api_backend

    from lab.runtime import LabRuntime

    moto_api_backend.reset()  # moto's backends live in this process, shared by every lab it started
    runtime = LabRuntime()
    # The HA cases run Db2 11.5.5, the runbook's release: its Pacemaker tarball makes pcmk-install a step of
    # several commands (unpack, EPEL, dnf), so a fault can land between them.
    db2 = "11.5.5" if fresh_ha else None
    await runtime.start(
        1, base_dir=base / "lab", failover_delay_s=0, with_aws=True, fresh_ha=fresh_ha, db2=db2
    )
    try:
        front = await ProxiedLab(runtime, base, http=HttpFaults()).start()
    except BaseException:
        await runtime.stop()
        raise
    return runtime, front


# ------------------------------------------------------------------------------------------------- HA


async def _setup_ha(front: ProxiedLab, runner: Any, journal: Journal, state: Path) -> tuple[int, dict, str]:
    from services.ha_setup.cli import run_setup_ha

    out = io.StringIO()
    async with ConsoleContext(front.inventory, _settings()) as session:  # type: ignore[arg-type]
        code = await run_setup_ha(
            front.inventory,  # type: ignore[arg-type]
            CLUSTER,
            mode="apply",
            as_json=True,
            out=out,
            context=session,
            runner=runner(session) if runner else None,
            journal=journal,
            state_dir=state,
        )
    text = out.getvalue()
    return code, json.loads(text), text


async def run_ha_case(case: Case, base: Path) -> CaseResult:
    """Run one HA case (see the module docstring); return its result (problems empty when it holds)."""
    result = CaseResult(case)
    started = time.monotonic()
    runtime, front = await _lab(base, fresh_ha=True)
    try:
        journal, state = Journal(base / "journal"), base / "state"
        fire = _inject(front, case)
        if case.where == "aws":
            _arm_http(front.aws.http, case.mode, f"Action={case.trigger}".encode())  # type: ignore[union-attr]
            wrap = None
        else:
            match, when = _matcher(case)

            def wrap(session: ConsoleContext) -> TriggeredRunner:
                return TriggeredRunner(session.runner, match, fire, when)

        clock = time.monotonic()
        first = await _guarded(result, "the faulted run", lambda: _setup_ha(front, wrap, journal, state))
        result.run_seconds = time.monotonic() - clock
        result.injected = front.counts().injected
        if first is not None:
            code, report, text = first
            result.first_code = code
            _check_failure(result, case, code, report, text)
            _check_journal(result, journal, report)
        heal(front)
        again = await _guarded(result, "the re-run", lambda: _setup_ha(front, None, journal, state))
        if again is not None:
            code, report, _ = again
            if code != 0:
                result.problems.append(f"the re-run after the fault failed: {report.get('next')}")
            elif {s["status"] for s in report["steps"]} - {"applied", "already_done"}:
                result.problems.append("the re-run left steps not done")
            _check_journal(result, journal, report)
        result.problems += no_duplicates_ha(runtime, front)
    finally:
        await front.close()
        await runtime.stop()
    result.seconds = time.monotonic() - started
    return result


def _moto(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="lab-access-key",
        aws_secret_access_key="lab-secret-key",
    )


def no_duplicates_ha(runtime: Any, front: ProxiedLab) -> list[str]:
    """Read moto and the lab directly (not through the proxy): one overlay route per table (to the
    primary), one policy of that name with one version, attached once to each role; each Pacemaker object
    once, the overlay IP on one host once."""
    from lab.commands import run_command
    from lab.ha_state import cluster_ha
    from services.ha_setup.oip_steps import parse_crm_config
    from services.ha_setup.params import HaParams

    problems = []
    cluster = front.inventory.cluster(CLUSTER)  # type: ignore[attr-defined]
    params = HaParams().resolve(cluster)
    ec2, iam = _moto(runtime.endpoint_url, "ec2"), _moto(runtime.endpoint_url, "iam")
    for table in ec2.describe_route_tables(RouteTableIds=list(params.route_table_ids or ()))["RouteTables"]:
        routes = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == params.overlay_cidr]
        if len(routes) != 1 or routes[0].get("InstanceId") != cluster.host("db2a").instance_id:
            problems.append(f"{table['RouteTableId']}: overlay routes {routes}")
    policies = [
        p for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == params.iam_policy_name
    ]
    if len(policies) != 1:
        problems.append(f"{len(policies)} policies named {params.iam_policy_name}")
    for policy in policies:
        versions = iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]
        if len(versions) != 1:
            problems.append(f"{policy['Arn']}: {len(versions)} versions")
        roles = Counter(
            r["RoleName"] for r in iam.list_entities_for_policy(PolicyArn=policy["Arn"])["PolicyRoles"]
        )
        if not roles or max(roles.values()) != 1:
            problems.append(f"{policy['Arn']} attached {dict(roles)}")
    lab = runtime.clusters[CLUSTER]
    code, shown, err = run_command(lab, lab.hosts["db2a"], ["crm", "configure", "show"])
    ids = Counter(e.id for e in parse_crm_config(shown))
    if code != 0 or not ids or max(ids.values()) != 1:
        problems.append(f"crm configure show: exit {code} {err.strip()} ids {dict(ids)}")
    holders = {name: h.addresses.count(params.overlay_cidr) for name, h in cluster_ha(lab).hosts.items()}
    if sorted(holders.values()) != [0, 0, 1] and sorted(holders.values()) != [0, 1]:
        problems.append(f"overlay address on hosts {holders}")
    return problems


# ------------------------------------------------------------------------------------------- failover


async def _failover(front: ProxiedLab, runner: Any, journal: Journal, state: Path) -> tuple[int, dict, str]:
    from services.failover.cli import run_failover

    out = io.StringIO()
    async with ConsoleContext(front.inventory, _settings()) as session:  # type: ignore[arg-type]
        code = await run_failover(
            front.inventory,  # type: ignore[arg-type]
            CLUSTER,
            target="db2b",
            apply=True,
            confirm=f"{CLUSTER}/db2b",
            as_json=True,
            out=out,
            context=session,
            runner=runner(session) if runner else None,
            journal=journal,
            state_dir=state,
            timeout_s=3 * STALL_S,
            poll_interval_s=0.2,
        )
    text = out.getvalue()
    return code, json.loads(text), text


async def on_target(front: ProxiedLab, target: str = "db2b", tries: int = 20) -> str:
    """ "" once a snapshot over a new pool shows `target` promoted, HADR primary in PEER and the route to
    it (a few tries: the lab settles in a tick or two), else what is still off."""
    from services.failover.observe import observe
    from services.status.service import gather_cluster_status

    cluster = front.inventory.cluster(CLUSTER)  # type: ignore[attr-defined]
    problems: list[str] = []
    async with ConsoleContext(front.inventory, _settings()) as session:  # type: ignore[arg-type]
        for _ in range(tries):
            status = await gather_cluster_status(cluster, session.runner, deadline_s=STALL_S)
            seen = observe(cluster, status, target, 0.0)
            if seen.complete:
                return ""
            problems = list(seen.problems)
            await asyncio.sleep(0.5)
    return "; ".join(problems) or "not on the target"


async def run_failover_case(case: Case, base: Path) -> CaseResult:
    """Run one failover case (see the module docstring); return its result."""
    result = CaseResult(case)
    started = time.monotonic()
    runtime, front = await _lab(base, fresh_ha=False)
    try:
        journal, state = Journal(base / "journal"), base / "state"
        fire = _inject(front, case)
        match, when = _matcher(case)

        def wrap(session: ConsoleContext) -> TriggeredRunner:
            return TriggeredRunner(session.runner, match, fire, when)

        clock = time.monotonic()
        first = await _guarded(result, "the faulted failover", lambda: _failover(front, wrap, journal, state))
        result.run_seconds = time.monotonic() - clock
        result.injected = front.counts().injected
        if first is not None:
            code, report, text = first
            result.first_code = code
            _check_failure(result, case, code, report, text)
            _check_journal(result, journal, report)
            result.problems += _said_what_was_sent(case, report)
        heal(front)
        again = await _guarded(result, "the re-run", lambda: _failover(front, None, journal, state))
        if again is not None:
            code, report, _ = again
            if code != 0 or report.get("outcome") not in ("ok", "already_done"):
                result.problems.append(f"the re-run after the fault: {code} {report.get('message')}")
            _check_journal(result, journal, report)
        off = await on_target(front)
        if off:
            result.problems.append(f"not on db2b after the re-run: {off}")
    finally:
        await front.close()
        await runtime.stop()
    result.seconds = time.monotonic() - started
    return result


def _said_what_was_sent(case: Case, report: dict[str, Any]) -> list[str]:
    """The report of a failed failover lists every command it sent (the takeover above all)."""
    if report.get("exit_code") != 1:
        return []
    steps = {s["id"]: s for s in report.get("steps") or []}
    if case.point in ("act", "act-answered", "verify"):
        sent = [a.get("command", "") for a in (steps.get("takeover") or {}).get("performed", [])]
        if not any("takeover" in c for c in sent):
            return [f"the report does not say the takeover was sent: {steps.get('takeover')}"]
    if case.point == "preflight":
        performed = [a for s in steps.values() for a in s.get("performed", [])]
        if performed:
            return [f"a failed preflight sent {performed}"]
    return []


async def run_case(case: Case, base: Path | None = None) -> CaseResult:
    """Run `case` in `base` (default: a new temporary directory)."""
    runner = run_ha_case if case.plan == "ha" else run_failover_case
    if base is not None:
        return await runner(case, base)
    with tempfile.TemporaryDirectory(prefix="db2ops-planfaults-") as tmp:
        return await runner(case, Path(tmp))
