"""The text of a check report, for the terminal (the JSON is CheckReport.to_dict)."""

from __future__ import annotations

from services.check.service import CheckReport


def render_check_text(report: CheckReport) -> str:
    lines = [f"{report.cluster}: " + _headline(report)]
    for f in sorted(report.findings, key=lambda f: (f.severity != "error", f.code)):
        lines += [
            f"  {f.severity.value.upper():<7} {f.code}  {f.summary}",
            f"          why: {f.why}",
            f"          fix: {f.fix}",
        ]
    for u in report.unreadable:
        lines.append(f"  NOT CHECKED  {u}")
    if report.checked:
        lines.append("  checked: " + ", ".join(report.checked))
    return "\n".join(lines)


def _headline(report: CheckReport) -> str:
    n = len(report.findings)
    if report.exit_code == 2:
        return f"could not read everything the check needs ({n} finding{'s' if n != 1 else ''} from what was read)"
    if n == 0:
        return "no findings"
    return f"{n} finding{'s' if n != 1 else ''}"
