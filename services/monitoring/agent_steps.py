"""Runbook action 4: the CloudWatch agent ships the extracted audit log and db2diag.log.

The two collect_list entries are MERGED into the host's existing agent config by file_path (other
entries and sections are kept; an entry for the same file gets our keys, its extra keys stay). The agent
is (re)started with `fetch-config ... -s` and its status read back.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from services.inventory.model import Host
from services.monitoring.params import AUDIT_RECORD_START_PATTERN, DB2DIAG_START_PATTERN, MonitoringParams
from services.plans import HostCommand, HostCommandStep, PlanContext, StepFailed, StepState, VerifiedByCheck

IAM_EXPLAIN = (
    "The EC2 instance role needs the AWS managed policy CloudWatchAgentServerPolicy (logs:CreateLogGroup, "
    "logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogStreams, ...) for the agent to ship logs."
)


class AgentConfigError(StepFailed):
    """The existing agent config cannot be merged (not JSON, or not the agent's shape)."""


def collect_entries(params: MonitoringParams) -> list[dict[str, Any]]:
    """Return the two collect_list entries: the extracted audit log and db2diag.log."""
    return [
        {
            "file_path": params.audit_output_path,
            "log_group_name": params.audit_log_group,
            "log_stream_name": params.log_stream_name,
            "multi_line_start_pattern": AUDIT_RECORD_START_PATTERN,  # one event per audit record
        },
        {
            "file_path": params.diag_path,
            "log_group_name": params.diag_log_group,
            "log_stream_name": params.log_stream_name,
            "multi_line_start_pattern": DB2DIAG_START_PATTERN,  # one event per db2diag record
        },
    ]


def _section(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.setdefault(key, {})
    if not isinstance(value, dict):
        raise AgentConfigError(f"the agent config's {where}{key} is not an object; fix it by hand first")
    return value


def merge_agent_config(existing: str | None, entries: list[dict[str, Any]]) -> tuple[str, bool]:
    """Return (merged JSON text, changed?) with `entries` merged into `existing` (None/"" = no file).

    Raises AgentConfigError when `existing` is not a JSON object of the agent's shape: db2ops never
    overwrites a config it cannot read.
    """
    if existing is None or not existing.strip():
        config: Any = {}
    else:
        try:
            config = json.loads(existing)
        except json.JSONDecodeError as exc:
            raise AgentConfigError(
                f"the agent config is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg}); "
                "fix or move it away, db2ops will not overwrite it"
            ) from None
    if not isinstance(config, dict):
        raise AgentConfigError("the agent config is not a JSON object; fix or move it away")
    before = json.dumps(config, sort_keys=True)
    _section(config, "agent", "").setdefault("run_as_user", "root")  # the runbook's; an existing value wins
    files = _section(
        _section(_section(config, "logs", ""), "logs_collected", "logs."), "files", "logs.logs_collected."
    )
    collect = files.setdefault("collect_list", [])
    if not isinstance(collect, list):
        raise AgentConfigError("logs.logs_collected.files.collect_list is not a list; fix it by hand first")
    for entry in entries:
        same = [
            item for item in collect if isinstance(item, dict) and item.get("file_path") == entry["file_path"]
        ]
        if same:
            same[0].update(entry)
            for duplicate in same[1:]:  # two entries for one file ship every line twice
                collect.remove(duplicate)
        else:
            collect.append(dict(entry))
    changed = json.dumps(config, sort_keys=True) != before
    return json.dumps(config, indent=2) + "\n", changed


def entries_present(existing: str | None, entries: list[dict[str, Any]]) -> bool:
    """Return True when every entry's keys are already in the config (no change needed)."""
    try:
        _, changed = merge_agent_config(existing, entries)
    except AgentConfigError:
        return False
    return not changed


def parse_agent_status(text: str) -> dict[str, Any]:
    """Return the JSON printed by `amazon-cloudwatch-agent-ctl -a status`; raise StepFailed otherwise."""
    start = text.find("{")
    try:
        data = json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or "status" not in data:
        raise StepFailed(f"unexpected agent status output: {text.strip()[:200]!r}")
    return data


class AgentConfigStep(VerifiedByCheck, HostCommandStep):
    """Merge the two log entries into config.json, fetch-config + start, read the status back."""

    def __init__(self, host: Host, params: MonitoringParams) -> None:
        super().__init__(
            id=f"agent@{host.name}",
            title=f"CloudWatch agent ships the audit log and db2diag.log from {host.name}",
            host=host,
            explain=f"Log groups {params.audit_log_group} and {params.diag_log_group}, stream "
            f"{params.log_stream_name!r}; merged into {params.agent_config_path} (other entries kept). "
            + IAM_EXPLAIN,
        )
        self.params = params

    def _root(self, *argv: str) -> tuple[str, ...]:
        return ("sudo", "-n", *argv) if self.params.use_sudo else argv

    async def _read_config(self, ctx: PlanContext) -> str | None:
        result = await ctx.read(self.host, list(self._root("cat", self.params.agent_config_path)))
        if result.exit_status == 0:
            return result.stdout
        if "No such file" in result.stderr:
            return None
        raise StepFailed(
            f"{self.host.name}: cannot read {self.params.agent_config_path} ({result.stderr.strip()}); "
            "the ssh user needs passwordless sudo for it (or set use_sudo: false and connect as root)"
        )

    async def _status(self, ctx: PlanContext) -> dict[str, Any]:
        result = await ctx.read(self.host, list(self._root(self.params.agent_ctl, "-a", "status")))
        if result.exit_status != 0:
            raise StepFailed(
                f"{self.host.name}: the CloudWatch agent is not usable ({result.stderr.strip() or result.exit_status}); "
                "install it first (runbook prerequisites: rpm -U amazon-cloudwatch-agent.rpm)"
            )
        return parse_agent_status(result.stdout)

    async def check(self, ctx: PlanContext) -> StepState:
        status = await self._status(ctx)
        existing = await self._read_config(ctx)
        merged, changed = merge_agent_config(existing, collect_entries(self.params))
        ctx.facts[self.id] = {"existing": existing, "merged": merged, "status": status}
        running = status.get("status") == "running" and status.get("configstatus") == "configured"
        state = f"agent {status.get('status')}, config {status.get('configstatus')}"
        if not changed and running:
            return StepState(True, f"both log entries present; {state}")
        return StepState(False, ("config needs the log entries; " if changed else "") + state)

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        p = self.params
        facts = ctx.facts.get(self.id) or {}
        merged = facts.get("merged") or merge_agent_config(None, collect_entries(p))[0]
        out = []
        if facts.get("existing") is not None:
            out.append(
                HostCommand(
                    self._root("cp", "-p", "--", p.agent_config_path, p.agent_config_path + ".db2ops-bak")
                )
            )
        else:
            out.append(HostCommand(self._root("mkdir", "-p", "--", posixpath.dirname(p.agent_config_path))))
        out += [
            HostCommand(self._root("tee", "--", p.agent_config_path), input=merged, note="merged config"),
            HostCommand(
                self._root(
                    p.agent_ctl,
                    "-a",
                    "fetch-config",
                    "-m",
                    p.agent_mode,
                    "-c",
                    f"file:{p.agent_config_path}",
                    "-s",
                )
            ),
        ]
        return out

    async def apply(self, ctx: PlanContext) -> None:
        await self.check(ctx)  # merge into the config as it is now, not as it was at the dry run
        await super().apply(ctx)
