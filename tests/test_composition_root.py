"""One composition root: ConsoleContext owns the session's one SSH pool (fed from settings.yaml) and every
service reaches hosts through it; screens get it from the typed app, never by fishing with getattr."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest

from services.context import ConsoleContext
from services.inventory.model import Cluster, Host, Inventory
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("services", "tui", "screens", "lab")

SSH_SETTINGS = Settings(
    ssh_connect_timeout_s=1.25,
    ssh_command_timeout_s=7.5,
    ssh_keepalive_s=3.0,
    ssh_max_concurrency=9,
    ssh_max_output_mb=0.5,
    status_deadline_s=4.5,
)


def _sources(*packages: str) -> list[tuple[str, ast.Module]]:
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            found.append((rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)))
    return found


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def test_product_code_builds_the_ssh_pool_in_exactly_one_place() -> None:
    sites: dict[str, int] = {}
    for rel, tree in _sources(*PRODUCT):
        count = sum(1 for n in ast.walk(tree) if isinstance(n, ast.Call) and _called_name(n) == "SshPool")
        if count:
            sites[rel] = count
    assert sites, "the probe found no SshPool construction at all: is it still called SshPool?"
    assert sites == {"services/context.py": 1}, (
        f"SshPool built outside services/context.py: {sites}; take the pool from the ConsoleContext "
        "(app.context.runner, or the context a headless command receives) so settings.yaml applies"
    )


def _rooted_at_app(node: ast.expr) -> bool:
    """True for `app`, `self.app` and anything reached from them (`app.x.y`, `self.app.x`)."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        if isinstance(node, ast.Attribute) and node.attr == "app" and isinstance(node.value, ast.Name):
            return node.value.id == "self"
        node = node.func if isinstance(node, ast.Call) else node.value
    return isinstance(node, ast.Name) and node.id == "app"


def _app_probes(tree: ast.AST) -> list[int]:
    """Line numbers of getattr/hasattr calls whose object is the app or something reached from it."""
    return [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and _called_name(n) in ("getattr", "hasattr")
        and n.args
        and _rooted_at_app(n.args[0])
    ]


def test_screens_and_the_console_never_getattr_the_app() -> None:
    """The App is typed (Db2OpsApp.context, .settings, .paused, ...): nobody probes it for services."""
    offenders = [f"{rel}:{line}" for rel, tree in _sources("screens", "tui") for line in _app_probes(tree)]
    assert offenders == [], f"getattr/hasattr on the app: {offenders}; use the typed app.context instead"


def test_the_probe_sees_getattr_on_the_app() -> None:
    """The test above would catch the old service-locator lines (it is not vacuous)."""
    old = [
        'getattr(app.current_status_source, "runner", None)',
        'getattr(getattr(app, "inventory", None), "source", "")',
        'getattr(self.app, "paused", False)',
    ]
    for line in old:
        assert _app_probes(ast.parse(line)) == [1], line
    assert _app_probes(ast.parse('getattr(screen, "cluster", None); getattr(self.apply, "x")')) == []


def _cluster() -> Cluster:
    return Cluster(
        name="c1",
        read_only=False,
        hosts=(
            Host(name="a", address="127.0.0.1", port=9, role="db"),
            Host(name="b", address="127.0.0.1", port=9, role="db"),
        ),
    )


class _Lab:
    inventory = None
    stopped = 0

    async def start(self) -> None:  # pragma: no cover - the console starts it, not these tests
        pass

    async def stop(self) -> None:
        self.stopped += 1


async def test_every_console_service_shares_the_contexts_one_pool_with_the_settings() -> None:
    from screens.failover_services import context_services as failover_services
    from screens.setup_services import context_services as wizard_services
    from services.ssh.pool import SshPool

    cluster = _cluster()
    lab = _Lab()
    context = ConsoleContext(Inventory(clusters=(cluster,), source="inv.yaml"), SSH_SETTINGS, lab=lab)
    pool = context.runner
    assert isinstance(pool, SshPool) and context.pool is pool
    assert (pool.connect_timeout, pool.command_timeout, pool.keepalive_interval) == (1.25, 7.5, 3.0)
    status = await context.status()
    assert status.runner is pool  # type: ignore[attr-defined]  # the poller's StatusService
    assert pool.max_output_bytes == 512 * 1024
    assert status.deadline_s == 4.5  # type: ignore[attr-defined]
    wizard_ctx = await wizard_services(context).make_context(cluster)
    failover = failover_services(context, cluster)
    failover_ctx = await failover.make_context(cluster)
    assert wizard_ctx.runner is pool and failover_ctx.runner is pool
    assert failover.timeline is context.timeline("c1") and failover.runs is context.failover_runs
    await context.close()
    assert lab.stopped == 1 and context.lab is None
    with pytest.raises(Exception, match="closed"):
        await pool.run(cluster.hosts[0], ["true"])


def test_setup_apply_reaches_hosts_through_a_pool_with_the_settings_yaml_timeouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`db2ops setup ha --apply` used SshPool() with defaults: settings.yaml's SSH timeouts were ignored."""
    from services.ssh import pool as ssh
    from tui.cli import main

    config = tmp_path / "cfg" / "db2ops"
    config.mkdir(parents=True)
    (config / "settings.yaml").write_text(
        "ssh_connect_timeout_s: 1.25\nssh_command_timeout_s: 7.5\nssh_keepalive_s: 3\nssh_max_concurrency: 9\n"
    )
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "clusters:\n"
        "  - name: c1\n"
        "    read_only: false\n"
        "    hosts:\n"
        "      - {name: a, address: 127.0.0.1, port: 9, role: db}\n"
        "      - {name: b, address: 127.0.0.1, port: 9, role: db}\n"
        "      - {name: q, address: 127.0.0.1, port: 9, role: qdevice}\n"
    )
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    seen: list[tuple[int, float, float, float]] = []

    async def run(self: ssh.SshPool, host: Host, argv: object, **_: object) -> object:
        seen.append((id(self), self.connect_timeout, self.command_timeout, self.keepalive_interval))
        raise ssh.HostUnreachable(f"{host.name}: recorded by the test", host.name)

    monkeypatch.setattr(ssh.SshPool, "run", run)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    argv = ["--inventory", str(inventory), "setup", "ha", "--cluster", "c1", "--apply"]
    code = main([*argv, "--set", "route_table_ids=rtb-0123abcd"])
    assert code == 1, out.getvalue()  # every host "unreachable": the run fails, after reaching them
    assert "recorded by the test" in out.getvalue()
    assert seen, "the apply never reached a host"
    assert {pool for pool, *_ in seen} == {seen[0][0]}  # one pool for the whole command
    assert {tuple(timeouts) for _, *timeouts in seen} == {(1.25, 7.5, 3.0)}


_CONTAINERS = ("dict", "list", "set", "defaultdict", "OrderedDict", "deque", "WeakKeyDictionary")
# The screen registry is filled at import time by the screen modules themselves: what the program has, not
# what a session did. Everything a session accumulates lives on its ConsoleContext.
_IMPORT_TIME_REGISTRIES = {("tui/screen_registry.py", "_ENTRIES"), ("tui/screen_registry.py", "_LOAD_ERRORS")}


def _module_level_containers(rel: str, tree: ast.Module) -> list[tuple[str, str]]:
    found = []
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if value is None:
            continue
        empty = (isinstance(value, ast.Dict) and not value.keys) or (
            isinstance(value, ast.List | ast.Set) and not value.elts
        )
        if empty or (isinstance(value, ast.Call) and _called_name(value) in _CONTAINERS):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [(rel, ast.unparse(t)) for t in targets]
    return found


def test_screens_and_the_console_keep_no_session_state_in_module_globals() -> None:
    """Timelines and failover runs were module globals (_TIMELINES, _RUNS): two consoles in one process
    (tests) shared them, and nothing owned their lifetime. They live on the ConsoleContext now."""
    found = {pair for rel, tree in _sources("screens", "tui") for pair in _module_level_containers(rel, tree)}
    assert found - _IMPORT_TIME_REGISTRIES == set()
    # the probe sees the old globals
    old = ast.parse(
        "_RUNS: dict[str, object] = {}\n_TIMELINES = weakref.WeakKeyDictionary()\n_LOOK = {'a': 1}"
    )
    assert _module_level_containers("x.py", old) == [("x.py", "_RUNS"), ("x.py", "_TIMELINES")]


# Memo caches of pure functions of their key: what a session did never changes what they answer. The boto3
# client cache holds one client per (service, AWS settings, read kind): clients are stateless and thread-safe.
_PURE_CACHES = {
    ("services/aws_clients.py", "_clients"),
    ("services/parsers/db2diag.py", "_TZ_CACHE"),
    ("services/logs/diag_entries.py", "_MINUTE_US"),
    ("services/logs/diag_header.py", "_MINUTES"),
    ("services/record/store.py", "_COMPARED"),
}


def test_services_keep_no_session_state_in_module_globals() -> None:
    """The lab registry (_LAB_SOURCES) and the proofs' look-back (_LAST_PROOF_END) were module globals in
    services/; a session's state lives on its ConsoleContext, so services/ keeps only pure caches."""
    found = {pair for rel, tree in _sources("services") for pair in _module_level_containers(rel, tree)}
    assert found - _PURE_CACHES == set()
    assert _PURE_CACHES <= found, "a listed cache is gone: drop it from _PURE_CACHES"
