"""HADR_PEER_WINDOW, HADR_TIMEOUT (and HADR_SYNCMODE) of `db2 get db cfg` against the db2hadr resource's
monitor.

On a primary failure Pacemaker promotes the standby with a takeover "by force peer window only": Db2
refuses it once the standby's peer window has ended. The peer window starts at the primary's last
heartbeat; Pacemaker notices the failed primary at the latest one monitor interval plus one monitor timeout
after it. A peer window shorter than that lets the automatic failover fail exactly when it is needed.
"""

from __future__ import annotations

from services.check.finding import Finding, Severity
from services.check.pacemaker_config import CrmConfig, Operation

LAYER = "db2+pacemaker"
IBM_MIN_PEER_WINDOW_S = 120  # hadr_peer_window usage notes: "A recommended minimum value is 120 seconds"
PEER_WINDOW_IGNORED = ("ASYNC", "SUPERASYNC")  # Db2 ignores the peer window in these modes
PRIMARY_ROLES = ("Master", "Promoted")


def primary_monitor(ops: list[Operation]) -> Operation | None:
    """The monitor Pacemaker runs on the promoted (primary) instance of the resource."""
    return next((op for op in ops if op.name == "monitor" and op.attrs.get("role") in PRIMARY_ROLES), None)


def _int(params: dict[str, str], name: str) -> int | None:
    value = params.get(name, "").split("(")[0].strip()  # "AUTOMATIC(52000)" kinds are not used here
    return int(value) if value.isdigit() else None


def hadr_timing_findings(params: dict[str, str], config: CrmConfig) -> list[Finding]:
    """Return the findings of one database's HADR_* parameters against the cluster's db2hadr resource."""
    hadr = config.primitives_of("db2hadr")
    if not hadr:
        return [
            Finding(
                "PCMK-DB2HADR-MISSING",
                Severity.ERROR,
                LAYER,
                "no db2hadr resource in `crm configure show`",
                "Pacemaker does not manage the HADR database: nothing promotes the standby when the primary fails.",
                "create it as the instance owner: db2cm -create -db DBNAME -instance INSTANCE",
            )
        ]
    findings: list[Finding] = []
    rsc = hadr[0]
    monitor = primary_monitor(rsc.ops)
    if monitor is None or monitor.seconds("interval") in (None, 0.0):
        findings.append(
            Finding(
                "PCMK-DB2HADR-NO-PRIMARY-MONITOR",
                Severity.ERROR,
                "pacemaker",
                f"resource {rsc.id} has no recurring monitor for the primary role (role=Master)",
                "Pacemaker never looks at the primary, so a failed primary is never taken over.",
                f"recreate the resource with db2cm (it adds `op monitor interval=9s role=Master timeout=60s`), "
                f"or add that operation with `crm configure edit {rsc.id}`",
            )
        )
    syncmode = params.get("HADR_SYNCMODE", "").upper()
    peer_window = _int(params, "HADR_PEER_WINDOW")
    if syncmode in PEER_WINDOW_IGNORED or peer_window is None:
        return findings
    set_pw = "db2 update db cfg for DBNAME using HADR_PEER_WINDOW {} (on both hosts; the database must be deactivated and activated again)"
    if peer_window == 0:
        findings.append(
            Finding(
                "HADR-PEER-WINDOW-ZERO",
                Severity.ERROR,
                LAYER,
                f"HADR_PEER_WINDOW is 0 with HADR_SYNCMODE {syncmode}",
                "Pacemaker's automatic failover is a takeover by force peer window only, which Db2 refuses "
                "without a peer window: the standby is never promoted when the primary fails.",
                set_pw.format(IBM_MIN_PEER_WINDOW_S),
            )
        )
        return findings
    if monitor is not None:
        interval, timeout = monitor.seconds("interval"), monitor.seconds("timeout")
        if interval and timeout is not None and peer_window <= interval + timeout:
            detect = interval + timeout
            findings.append(
                Finding(
                    "HADR-PEER-WINDOW-SHORT",
                    Severity.ERROR,
                    LAYER,
                    f"HADR_PEER_WINDOW {peer_window} s is not longer than the db2hadr primary monitor "
                    f"interval + timeout ({interval:g} s + {timeout:g} s = {detect:g} s)",
                    "Pacemaker may notice a failed primary only after the standby's peer window has ended; "
                    "its takeover by force peer window only is then refused and the database stays down.",
                    set_pw.format(max(IBM_MIN_PEER_WINDOW_S, int(detect) + 60))
                    + f", or shorten the monitor with `crm configure edit {rsc.id}`",
                )
            )
    timeout = _int(params, "HADR_TIMEOUT")
    # Below IBM's minimum the window findings already say to raise it (which also covers the timeout): the
    # timeout is judged on its own only against a window that is otherwise fine.
    if (
        timeout is not None
        and timeout > peer_window
        and peer_window >= IBM_MIN_PEER_WINDOW_S
        and not findings
    ):
        findings.append(timeout_outlasts_window(timeout, peer_window, monitor))
    if peer_window < IBM_MIN_PEER_WINDOW_S:
        findings.append(
            Finding(
                "HADR-PEER-WINDOW-BELOW-MINIMUM",
                Severity.WARNING,
                "db2",
                f"HADR_PEER_WINDOW {peer_window} s is below IBM's recommended minimum of "
                f"{IBM_MIN_PEER_WINDOW_S} s",
                "A short peer window leaves little time for Pacemaker to detect, demote and promote before "
                "the standby stops accepting a peer-window-only takeover.",
                set_pw.format(IBM_MIN_PEER_WINDOW_S),
            )
        )
    return findings


# IBM, "Setting the hadr_timeout and hadr_peer_window database configuration parameters" (Db2 11.5,
# https://www.ibm.com/docs/en/db2/11.5?topic=hadr-setting-timeout-peer-window): HADR breaks a connection at
# once on a network error, "only in the worst case does HADR wait until the timeout", and then an application
# "can be blocked for the time equal to the sum of the hadr_timeout and hadr_peer_window". hadr_peer_window
# usage notes: TAKEOVER ... PEER WINDOW ONLY "launches a takeover operation only if the HADR standby is
# presently inside the defined peer window".
IBM_TIMEOUT_DOC = "https://www.ibm.com/docs/en/db2/11.5?topic=hadr-setting-timeout-peer-window"


def timeout_outlasts_window(timeout: int, peer_window: int, monitor: Operation | None) -> Finding:
    """HADR_TIMEOUT longer than HADR_PEER_WINDOW: a silent failure outlives the window Pacemaker needs."""
    detect = ""
    if monitor is not None and monitor.seconds("interval") and monitor.seconds("timeout") is not None:
        seconds = (monitor.seconds("interval") or 0) + (monitor.seconds("timeout") or 0)
        detect = f" (the db2hadr primary monitor needs up to {seconds:g} s to notice a failure)"
    return Finding(
        "HADR-TIMEOUT-OUTLASTS-PEER-WINDOW",
        Severity.WARNING,
        LAYER,
        f"HADR_TIMEOUT {timeout} s is longer than HADR_PEER_WINDOW {peer_window} s",
        "When the primary goes silent without a network error (host lost, network cut), HADR waits the "
        "whole HADR_TIMEOUT before it calls the connection lost, and the standby's peer window runs from the "
        "primary's last message, so it has ended before the standby ever reaches DISCONNECTED_PEER. Pacemaker's "
        "takeover by force peer window only, which IBM runs only while the standby is inside its peer window, "
        f"then has just HADR_PEER_WINDOW seconds{detect}; and IBM notes that in this worst case applications "
        f"wait HADR_TIMEOUT + HADR_PEER_WINDOW ({timeout + peer_window} s) on the primary ({IBM_TIMEOUT_DOC}).",
        f"db2 update db cfg for DBNAME using HADR_TIMEOUT {peer_window} (or raise HADR_PEER_WINDOW to at least "
        f"{timeout}) on both hosts, then stop and start HADR on the primary (HADR_TIMEOUT is read at activation)",
    )


COMPARED = ("HADR_PEER_WINDOW", "HADR_TIMEOUT", "HADR_SYNCMODE")


def hadr_mismatch_findings(by_host: dict[str, dict[str, str]]) -> list[Finding]:
    """HADR_PEER_WINDOW, HADR_TIMEOUT and HADR_SYNCMODE must be the same on both databases."""
    findings = []
    for name in COMPARED:
        values = {host: params.get(name, "") for host, params in by_host.items()}
        if len(set(values.values())) > 1:
            seen = ", ".join(f"{h}: {v or '(empty)'}" for h, v in sorted(values.items()))
            findings.append(
                Finding(
                    f"HADR-CFG-MISMATCH-{name.removeprefix('HADR_').replace('_', '-')}",
                    Severity.WARNING,
                    "db2",
                    f"{name} differs between the hosts ({seen})",
                    "After a takeover the new primary uses its own value: the cluster's failover behaviour "
                    "changes with the role.",
                    f"db2 update db cfg for DBNAME using {name} VALUE on the host that differs, then "
                    "deactivate and activate the database there",
                )
            )
    return findings
