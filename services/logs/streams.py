"""Which log streams are one cluster's: the stream -> host map, and the stream scope every log reader uses.

The log groups are shared by name (the runbook's `db2-diagnostics-logs` and `db2-db-worker-audit-log` hold
every cluster's records), so a reader of one cluster must ask for its hosts' streams only. The CloudWatch
agent names a host's stream after a template: `setup monitoring` writes `{instance_id}` (the agent's
default, SETUP_STREAM_TEMPLATE), the runbook writes `Db2 - {instance_id}`. `stream_map` expands every known
template with the inventory's instance ids; one map per cluster, used by the log view (Live Tail and
polling), Logs Insights, the timeline and `db2ops logs`.

AWS semantics the readers respect: FilterLogEvents takes at most 100 `logStreamNames` and refuses a name
that does not exist (ResourceNotFoundException), so `StreamScope` lists which of the candidate names exist
in a group (DescribeLogStreams by prefix) and asks for those only; StartLiveTail takes `logStreamNames` or
`logStreamNamePrefixes` only with a single log group; Logs Insights has no stream parameter, so a query is
scoped with `filter @logStream in [...]`. No Textual here.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.inventory.model import Cluster

SETUP_STREAM_TEMPLATE = "{instance_id}"  # what `setup monitoring` writes (the agent's own default)
RUNBOOK_STREAM_TEMPLATE = "Db2 - {instance_id}"  # what the runbook's agent config writes
STREAM_TEMPLATES: tuple[str, ...] = (SETUP_STREAM_TEMPLATE, RUNBOOK_STREAM_TEMPLATE)
MAX_STREAM_NAMES = 100  # FilterLogEvents logStreamNames / StartLiveTail logStreamNames(Prefixes) limit
UNKNOWN_MARK = "?"  # a stream no host of the inventory writes: shown raw, after this mark
REFRESH_S = 60.0  # a stream the agent creates later is found within this long
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def expand_template(template: str, instance_id: str, host_name: str) -> str | None:
    """Return the stream name the agent gives `template` on that host, or None when the template uses a
    placeholder the inventory cannot fill ({ip_address}, ...). {hostname} is taken as the node name."""
    name = (
        template.replace("{instance_id}", instance_id)
        .replace("{hostname}", host_name)
        .replace("{local_hostname}", host_name)
    )
    return None if _PLACEHOLDER.search(name) else name


@dataclass(frozen=True)
class StreamMap:
    """Stream name -> host name of one cluster's hosts, for every template; `unmapped` names the hosts
    without an instance_id (their streams cannot be told apart from another cluster's)."""

    cluster: str
    hosts: Mapping[str, str] = field(default_factory=dict)
    unmapped: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The candidate stream names, sorted."""
        return tuple(sorted(self.hosts))

    @property
    def scoped(self) -> bool:
        """True when the readers can ask for this cluster's streams only (some host has an instance id);
        False: the inventory gives no instance id and the whole groups are read (and said so)."""
        return bool(self.hosts)

    def host_of(self, stream: str) -> str | None:
        """Return the host writing `stream`, or None for a stream of no host of this cluster."""
        return self.hosts.get(stream)

    def label(self, stream: str) -> str:
        """Return the host column for `stream`: its host name, else the raw stream name marked unknown."""
        host = self.hosts.get(stream)
        return host if host is not None else f"{UNKNOWN_MARK}{stream}"

    def keeps(self, stream: str) -> bool:
        """Return True when an event of `stream` belongs on this cluster's views."""
        return not self.scoped or stream in self.hosts

    def insights_filter(self) -> str:
        """Return the Logs Insights command that keeps this cluster's streams ("" when not scoped)."""
        if not self.scoped:
            return ""
        return "filter @logStream in [" + ", ".join(insights_string(n) for n in self.names) + "]"

    def scope_query(self, query: str) -> str:
        """Return `query` run over this cluster's streams only: the stream filter first, then the query
        (which may itself filter, parse or stats: each reads what the filter kept)."""
        first = self.insights_filter()
        return f"{first}\n| {query.strip()}" if first and query.strip() else query

    def describe(self) -> str:
        """One line for notes and stderr: whose streams are read."""
        if not self.scoped:
            return (
                f"every stream of the log group: no host of {self.cluster or 'the cluster'} has an instance_id in the "
                "inventory, so other clusters' records may show; add instance_id to the hosts"
            )
        hosts = sorted(set(self.hosts.values()))
        return f"the streams of {', '.join(hosts)} ({', '.join(self.names)})"


def insights_string(text: str) -> str:
    """Return `text` as a double-quoted Logs Insights string literal (backslash and quote escaped)."""
    return json.dumps(text, ensure_ascii=False)


def stream_map(cluster: Cluster, templates: Iterable[str] = STREAM_TEMPLATES) -> StreamMap:
    """Return the StreamMap of `cluster`: each host's instance id through every template. The one place the
    readers learn which streams are the cluster's."""
    hosts: dict[str, str] = {}
    unmapped: list[str] = []
    for host in cluster.hosts:
        if not host.instance_id:
            if host.role == "db":
                unmapped.append(host.name)
            continue
        for template in templates:
            name = expand_template(template, host.instance_id, host.name)
            if name:
                hosts.setdefault(name, host.name)
    return StreamMap(cluster.name, hosts, tuple(unmapped))


def is_missing_stream(exc: BaseException) -> bool:
    """True for FilterLogEvents' ResourceNotFoundException about a stream (not the group): a stream listed
    a moment ago was deleted; list again."""
    error = (getattr(exc, "response", None) or {}).get("Error", {})
    return (
        error.get("Code") == "ResourceNotFoundException" and "stream" in str(error.get("Message", "")).lower()
    )


class StreamScope:
    """The candidate streams of a StreamMap that exist in each log group, listed again every `refresh_s`.
    Blocking calls: run them in a worker thread. Thread-safe (the tail's polls and its catch-up share one)."""

    def __init__(
        self, streams: StreamMap, *, refresh_s: float = REFRESH_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.streams = streams
        self.refresh_s = refresh_s
        self.clock = clock
        self._existing: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def forget(self, group: str | None = None) -> None:
        """Drop what is known of `group` (all groups when None): the next read lists its streams again."""
        with self._lock:
            if group is None:
                self._existing.clear()
            else:
                self._existing.pop(group, None)

    def cached(self, group: str) -> tuple[str, ...] | None:
        """Return the streams last listed for `group` (None: not listed yet). Never calls AWS."""
        with self._lock:
            known = self._existing.get(group)
        return None if known is None else known[1]

    def existing(self, client: Any, group: str) -> tuple[str, ...]:
        """Return the candidate streams that exist in `group` (blocking; cached for `refresh_s`). Raises
        botocore errors (ResourceNotFoundException when the group does not exist)."""
        now = self.clock()
        with self._lock:
            known = self._existing.get(group)
        if known is not None and now - known[0] < self.refresh_s:
            return known[1]
        found = tuple(n for n in self.streams.names if _stream_exists(client, group, n))
        with self._lock:
            self._existing[group] = (now, found)
        return found

    def filter_kwargs(self, client: Any, group: str, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        """Return FilterLogEvents `kwargs` limited to the cluster's streams of `group`; None when none of
        them exists yet (nothing to read: never send an empty list, which AWS refuses and moto reads as
        "every stream"). Unscoped maps return `kwargs` as they are."""
        if not self.streams.scoped or "logStreamNames" in kwargs:
            return kwargs
        names = self.existing(client, group)
        if not names:
            return None
        return {**kwargs, "logStreamNames": list(names[:MAX_STREAM_NAMES])}


def _stream_exists(client: Any, group: str, name: str) -> bool:
    page = client.describe_log_streams(logGroupName=group, logStreamNamePrefix=name, limit=50)
    while True:
        if any(s.get("logStreamName") == name for s in page.get("logStreams", [])):
            return True
        token = page.get("nextToken")
        if not token:
            return False
        page = client.describe_log_streams(
            logGroupName=group, logStreamNamePrefix=name, limit=50, nextToken=token
        )


def read_events(
    client: Any,
    scope: StreamScope,
    group: str,
    kwargs: dict[str, Any],
    *,
    max_events: int | None = None,
) -> list[dict[str, Any]]:
    """Return the events of `group` FilterLogEvents gives for `kwargs` (startTime, endTime, filterPattern),
    from the scope's streams only, every page (blocking), each with its logGroupName. A stream deleted
    since it was listed makes the scope list again, once."""
    for attempt in (1, 2):
        call = scope.filter_kwargs(client, group, {"logGroupName": group, **kwargs})
        if call is None:
            return []
        events: list[dict[str, Any]] = []
        try:
            while max_events is None or len(events) < max_events:
                page = client.filter_log_events(**call)
                events.extend(page.get("events", []))
                token = page.get("nextToken")
                if not token or token == call.get("nextToken"):
                    break
                call["nextToken"] = token
        except Exception as exc:
            if attempt == 1 and is_missing_stream(exc):
                scope.forget(group)
                continue
            raise
        keep = scope.streams.keeps
        return [{**e, "logGroupName": group} for e in events if keep(str(e.get("logStreamName", "")))]
    return []
