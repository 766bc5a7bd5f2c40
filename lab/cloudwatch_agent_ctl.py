"""The lab's `amazon-cloudwatch-agent-ctl`: -a status | fetch-config -m MODE -c file:PATH [-s] | start | stop.

fetch-config validates the collect_list entries against the agent schema excerpt of the corpus
(additionalProperties false) and, like the real agent, refuses JSON it cannot read. The status JSON has
the real keys (status, starttime, configstatus, version). Registered by lab/commands_db2admin.py.
"""

from __future__ import annotations

import json
from datetime import datetime

from lab.command_registry import CommandContext, Result
from lab.db2admin_state import AGENT_VERSION, HostDb2Admin, host_state, now_stamp


def _st(ctx: CommandContext) -> HostDb2Admin:
    return host_state(ctx.cluster, ctx.host)


_COLLECT_KEYS = {
    "file_path",
    "log_group_name",
    "log_stream_name",
    "log_group_class",
    "multi_line_start_pattern",
    "timestamp_format",
    "timezone",
    "trim_timestamp",
    "encoding",
    "auto_removal",
    "backpressure_mode",
    "blacklist",
    "publish_multi_logs",
    "retention_in_days",
    "filters",
    "service.name",
    "deployment.environment",
}  # corpus/cloudwatch/agent-schema-logsFilesDefinition.excerpt.json (additionalProperties: false)


def _agent_status(ctx: CommandContext) -> str:
    st = _st(ctx)
    data = {
        "status": st.agent_status,
        "starttime": st.agent_started_at,
        "configstatus": st.agent_config_status,
        "version": AGENT_VERSION,
    }
    return json.dumps(data, indent=2) + "\n"


def _validate(config: object) -> str | None:
    if not isinstance(config, dict):
        return "the root of the configuration must be an object"
    files = (
        config.get("logs", {}).get("logs_collected", {}).get("files", {})
        if isinstance(config.get("logs"), dict)
        else {}
    )
    for i, item in enumerate(files.get("collect_list", []) if isinstance(files, dict) else []):
        if not isinstance(item, dict) or "file_path" not in item:
            return f"/logs/logs_collected/files/collect_list/{i} : file_path is required"
        extra = sorted(set(item) - _COLLECT_KEYS)
        if extra:
            return (
                f"/logs/logs_collected/files/collect_list/{i} : Additional property {extra[0]} is not allowed"
            )
    return None


def agent_ctl(ctx: CommandContext) -> Result:
    """Answer amazon-cloudwatch-agent-ctl; returns (exit_status, stdout, stderr)."""
    st, args = _st(ctx), ctx.args
    action = args[args.index("-a") + 1] if "-a" in args[:-1] else ""
    if action == "status":
        return 0, _agent_status(ctx), ""
    if action == "stop":
        st.agent_status = "stopped"
        return 0, "", ""
    if action == "start":
        if st.agent_config is None:
            return 1, "", "E! No valid configuration found: run -a fetch-config first\n"
        st.agent_status, st.agent_started_at = "running", now_stamp()
        return 0, "", ""
    if action != "fetch-config":
        return 1, "", f"amazon-cloudwatch-agent-ctl: action {action!r} is not emulated by the db2ops lab\n"
    source = args[args.index("-c") + 1] if "-c" in args[:-1] else ""
    if not source.startswith("file:"):
        return 1, "", "E! only -c file:PATH configurations are emulated by the db2ops lab\n"
    path = source[len("file:") :]
    if path not in ctx.host.files:
        return 1, "", f"E! Failed to read {path}: open {path}: no such file or directory\n"
    out = [
        "****** processing amazon-cloudwatch-agent ******",
        "I! Trying to detect region from ec2 D! [EC2] Found active network interface",
        "Successfully fetched the config and saved in "
        "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.d/file_config.json.tmp",
        "Start configuration validation...",
    ]
    try:
        config = json.loads(ctx.host.files[path])
        problem = _validate(config)
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON: {exc.msg} at line {exc.lineno}"
    stamp = datetime.now().strftime("%Y/%m/%d %H:%M:%S")
    if problem is not None:
        out.append(
            f"{stamp} E! Configuration validation first phase failed. Agent version: {AGENT_VERSION}. Reason: {problem}"
        )
        return 1, "\n".join(out) + "\n", ""
    st.agent_config = config
    st.agent_config_status = "configured"
    out += [
        f"{stamp} Configuration validation first phase succeeded",
        "I! Detecting run_as_user...",
        f"{stamp} Configuration validation second phase succeeded",
        "Configuration validation succeeded",
    ]
    if "-s" in args:
        st.agent_status, st.agent_started_at = "running", now_stamp()
    return 0, "\n".join(out) + "\n", ""
