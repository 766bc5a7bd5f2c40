"""Runbook action 3: the periodic flush/archive/extract job, installed idempotently in the crontab.

The script (the runbook's, as a template) is written with `tee PATH` through stdin and run by path; the
crontab gets exactly one line carrying the marker `# db2ops:audit-extract` (replaced, never duplicated).
"""

from __future__ import annotations

import posixpath
import shlex

from services.inventory.model import Host
from services.monitoring.params import MonitoringParams
from services.plans import HostCommand, HostCommandStep, PlanContext, StepFailed, StepState, VerifiedByCheck

CRON_MARKER = "# db2ops:audit-extract"


def render_extract_script(params: MonitoringParams) -> str:
    """Return the cron script: the runbook's, with paths/database/output file as (quoted) parameters.

    Unlike the runbook (which extracts only the newest archive, then deletes them all), every archived
    file is extracted before it is removed, so no audit record is lost when a run was missed.
    """
    q = shlex.quote
    db = (params.database or "").upper()
    archive = (params.archivepath or "").rstrip("/") or "/"
    return (
        "#!/bin/bash\n"
        "# Installed by db2ops (monitoring plan, step cron): flush and archive the Db2 audit log of\n"
        f"# database {db} and extract it into {params.output_file} for the CloudWatch agent.\n"
        "# Change the plan's parameters and re-run it rather than editing this file.\n"
        f". {q(f'{params.instance_home}/sqllib/db2profile')}\n"
        f"cd {q(archive)} || exit 1\n"
        "db2audit flush\n"
        f"db2audit archive database {q(db)}\n"
        f"for f in {q(f'db2audit.db.{db}.log')}*; do\n"
        '  [ -e "$f" ] || continue\n'
        f'  db2audit extract file {q(params.output_file)} from files "$f" && rm -f "$f"\n'
        "done\n"
    )


def cron_line(params: MonitoringParams) -> str:
    """Return the crontab line (schedule, script path, log file, marker); values are validated upstream."""
    log = posixpath.join(posixpath.dirname(params.script_path or ""), "db2audit_extract.cron.log")
    return f"{params.cron_schedule} {params.script_path} >> {log} 2>&1 {CRON_MARKER}"


def merge_crontab(current: str, line: str) -> str:
    """Return `current` with every marked line replaced by `line` (once), other lines kept as they were."""
    kept = [entry for entry in current.splitlines() if CRON_MARKER not in entry]
    return "\n".join([*kept, line]) + "\n"


class CronJobStep(VerifiedByCheck, HostCommandStep):
    """Write the extract script and install its crontab line for the ssh user (the instance owner)."""

    def __init__(self, host: Host, params: MonitoringParams) -> None:
        super().__init__(
            id=f"cron@{host.name}",
            title=f"Audit extract job every {params.cron_schedule!r} on {host.name}",
            host=host,
            explain="cron runs the script, which flushes and archives the audit log and extracts it into "
            f"{params.audit_output_path} (read by the CloudWatch agent). Installed on both hosts so it "
            "keeps working after a takeover.",
        )
        self.params = params

    async def _read_crontab(self, ctx: PlanContext) -> str:
        result = await ctx.read(self.host, ["crontab", "-l"])
        if result.exit_status == 0:
            return result.stdout
        if "no crontab for" in result.stderr:
            return ""
        raise StepFailed(
            f"{self.host.name}: `crontab -l` failed ({result.stderr.strip() or result.exit_status}); "
            "check that cron is installed and the user may use it (/etc/cron.allow)"
        )

    async def check(self, ctx: PlanContext) -> StepState:
        script = await ctx.read(self.host, ["cat", self.params.script_path or ""])
        crontab = await self._read_crontab(ctx)
        ctx.facts[self.id] = {"crontab": crontab}
        script_ok = script.exit_status == 0 and script.stdout == render_extract_script(self.params)
        # cron runs the script by its path: without the x bit every run fails with "Permission denied"
        runnable = script_ok and (
            (await ctx.read(self.host, ["test", "-x", self.params.script_path or ""])).exit_status == 0
        )
        marked = [entry for entry in crontab.splitlines() if CRON_MARKER in entry]
        cron_ok = marked == [cron_line(self.params)]
        if runnable and cron_ok:
            return StepState(True, f"script {self.params.script_path} and its crontab line are installed")
        missing = []
        if not script_ok:
            missing.append("script missing" if script.exit_status else "script differs")
        elif not runnable:
            missing.append("script not executable")
        if not cron_ok:
            missing.append("crontab line missing" if not marked else "crontab line differs")
        return StepState(False, ", ".join(missing))

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        path = self.params.script_path or ""
        crontab = (ctx.facts.get(self.id) or {}).get("crontab", "")
        return [
            HostCommand(("mkdir", "-p", "--", posixpath.dirname(path))),
            HostCommand(("tee", "--", path), input=render_extract_script(self.params)),
            HostCommand(("chmod", "0755", path)),
            HostCommand(
                ("crontab", "-"),
                input=merge_crontab(crontab, cron_line(self.params)),
                note="the current crontab with the marked line added or replaced",
            ),
        ]

    async def apply(self, ctx: PlanContext) -> None:
        # Re-read just before writing back, so a line added since the check is not lost.
        ctx.facts[self.id] = {"crontab": await self._read_crontab(ctx)}
        await super().apply(ctx)
