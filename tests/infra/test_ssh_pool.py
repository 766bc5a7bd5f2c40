"""SshPool against a real asyncssh server on 127.0.0.1: reuse, argv quoting, timeouts, host keys, backoff."""

from __future__ import annotations

import asyncio
import json
import shlex
import socket
import stat
from dataclasses import replace
from pathlib import Path

import asyncssh
import pytest

from infra.sshd_fixture import TestSshd
from services.inventory.model import Host
from services.part_errors import ErrorKind
from services.ssh.pool import (
    AuthenticationFailed,
    CommandFailed,
    CommandOutputTooLarge,
    CommandTimeout,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    SshError,
    SshPool,
    trust_host_key,
)

# sshd and no_agent: tests/infra/conftest.py (the test server; only the test's identity is offered)
pytestmark = pytest.mark.usefixtures("no_agent")


def host_for(sshd: TestSshd, known_hosts: Path, trusted: bool = True) -> Host:
    if trusted:
        known_hosts.write_text(sshd.known_hosts_line())
    return Host(
        name="db2t",
        address="127.0.0.1",
        port=sshd.port,
        user="tester",
        identity=str(sshd.identity),
        known_hosts=str(known_hosts),
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_two_commands_share_one_connection(sshd: TestSshd, tmp_path: Path) -> None:
    host = host_for(sshd, tmp_path / "known_hosts")
    async with SshPool(config_paths=[]) as pool:
        first = await pool.run(host, ["argv", "one"])
        second = await pool.run(replace(host, name="alias-same-address"), ["argv", "two"])
    assert (first.stdout, second.stdout) == ('["one"]', '["two"]')
    assert first.ok and first.exit_status == 0 and first.host == "db2t"
    assert sshd.connections == 1
    assert sshd.auths == 1


async def test_concurrent_first_calls_share_one_connect(sshd: TestSshd, tmp_path: Path) -> None:
    host = host_for(sshd, tmp_path / "known_hosts")
    async with SshPool(config_paths=[]) as pool:
        results = await asyncio.gather(*(pool.run(host, ["argv", str(i)]) for i in range(6)))
    assert [json.loads(r.stdout) for r in results] == [[str(i)] for i in range(6)]
    assert sshd.connections == 1


HOSTILE = ["$(touch pwned)", "; rm -rf /", "a'b\"c", "", " spaced ", "`id`", "x\ny", "*", "ü∂", "--", "-n"]


async def test_hostile_argv_arrives_as_exact_arguments(sshd: TestSshd, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    host = host_for(sshd, tmp_path / "known_hosts")
    async with SshPool(config_paths=[]) as pool:
        result = await pool.run(host, ["argv", *HOSTILE])
    assert json.loads(result.stdout) == HOSTILE
    assert result.command == shlex.join(["argv", *HOSTILE])
    assert result.argv == ("argv", *HOSTILE)
    assert not (tmp_path / "pwned").exists()


async def test_input_exit_status_and_check(sshd: TestSshd, tmp_path: Path) -> None:
    host = host_for(sshd, tmp_path / "known_hosts")
    async with SshPool(config_paths=[]) as pool:
        echoed = await pool.run(host, ["cat"], input="line 1\nline 2\n")
        failed = await pool.run(host, ["exit", "3"])
        with pytest.raises(CommandFailed) as err:
            await pool.run(host, ["exit", "4"], check=True)
    assert echoed.stdout == "line 1\nline 2\n"
    assert (failed.exit_status, failed.ok, failed.stderr) == (3, False, "failing with 3\n")
    assert err.value.result.exit_status == 4
    assert str(err.value) == "db2t: `exit 4` exited with status 4: failing with 4"


async def test_input_to_a_command_that_ended_without_reading_it_keeps_the_connection(
    sshd: TestSshd, tmp_path: Path
) -> None:
    # `argv` and `exit` never read stdin and end at once: the server closes the channel before the input is
    # written (as OpenSSH's sshd does for `true`). Was: BrokenPipeError -> HostUnreachable, connection dropped.
    host = host_for(sshd, tmp_path / "known_hosts")
    async with SshPool(config_paths=[]) as pool:
        ignored = await pool.run(host, ["argv", "one"], input="never read\n")
        failed = await pool.run(host, ["exit", "3"], input="never read either\n")
        after = await pool.run(host, ["argv", "two"])
    assert (ignored.exit_status, ignored.stdout) == (0, '["one"]')
    assert (failed.exit_status, failed.stderr) == (3, "failing with 3\n")
    assert after.stdout == '["two"]'
    assert sshd.connections == 1


async def test_timeout_raises_and_connection_stays_usable(sshd: TestSshd, tmp_path: Path) -> None:
    host = host_for(sshd, tmp_path / "known_hosts")
    async with SshPool(config_paths=[]) as pool:
        with pytest.raises(CommandTimeout) as err:
            await pool.run(host, ["sleep", "30"], timeout=0.2)
        after = await pool.run(host, ["argv", "still here"])
    assert err.value.command == "sleep 30"
    assert err.value.timeout_s == 0.2
    assert "did not finish within 0.2s" in str(err.value)
    assert after.stdout == '["still here"]'
    assert sshd.connections == 1


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
async def test_output_over_the_cap_fails_the_command_and_connection_stays_usable(
    sshd: TestSshd, tmp_path: Path, stream: str
) -> None:
    host = host_for(sshd, tmp_path / "known_hosts")
    cap = 256 * 1024
    async with SshPool(config_paths=[], max_output_bytes=cap) as pool:
        exact = await pool.run(host, ["bytes", str(cap), stream])  # the cap itself is allowed
        with pytest.raises(CommandOutputTooLarge) as err:
            await pool.run(host, ["bytes", str(64 * cap), stream])
        after = await pool.run(host, ["argv", "still here"])
    assert len(exact.stdout if stream == "stdout" else exact.stderr) == cap
    command = f"bytes {64 * cap} {stream}"
    assert str(err.value).startswith(f"db2t: output of `{command}` on db2t larger than 0.25 MB;")
    assert "ssh_max_output_mb in settings" in str(err.value)
    assert (err.value.command, err.value.limit_bytes) == (command, cap)
    part = err.value.part_error()
    assert part.kind is ErrorKind.OUTPUT_TOO_LARGE and part.kind.value == "output_too_large"
    assert part.message.startswith(f"output of `{command}` on db2t larger than 0.25 MB")
    assert (part.host, part.command) == ("db2t", command)
    assert after.stdout == '["still here"]'
    assert sshd.connections == 1


@pytest.mark.parametrize(("overall", "per_host", "limit"), [(3, 8, 3), (32, 2, 2)])
async def test_concurrency_limits_are_respected(
    sshd: TestSshd, tmp_path: Path, overall: int, per_host: int, limit: int
) -> None:
    host = host_for(sshd, tmp_path / "known_hosts")
    async with SshPool(config_paths=[], max_concurrency=overall, per_host_concurrency=per_host) as pool:
        tasks = [asyncio.create_task(pool.run(host, ["gate"])) for _ in range(8)]
        for _ in range(500):  # wait (bounded) until the first ones are running on the server
            if sshd.active == limit:
                break
            await asyncio.sleep(0.01)
        for _ in range(20):  # give the others every chance to slip through
            await asyncio.sleep(0.01)
        assert sshd.active == limit
        sshd.release.set()
        results = await asyncio.gather(*tasks)
    assert all(r.ok for r in results)
    assert sshd.max_active == limit
    assert sshd.connections == 1


async def test_unknown_host_key_is_reported_with_fingerprint_then_trusted(
    sshd: TestSshd, tmp_path: Path
) -> None:
    known_hosts = tmp_path / "fresh" / "ssh" / "known_hosts"  # neither file nor directory exist yet
    host = host_for(sshd, known_hosts, trusted=False)
    async with SshPool(config_paths=[]) as pool:
        with pytest.raises(HostKeyUnknown) as err:
            await pool.run(host, ["argv", "x"])
        unknown = err.value
        assert type(unknown) is HostKeyUnknown
        assert unknown.fingerprint == sshd.host_key.get_fingerprint("sha256")
        assert unknown.fingerprint.startswith("SHA256:")
        assert unknown.key_type == "ssh-ed25519"
        assert unknown.public_key_line.split()[:2] == sshd.host_key.export_public_key().decode().split()[:2]
        assert (unknown.host, unknown.address, unknown.port) == ("db2t", "127.0.0.1", sshd.port)
        assert unknown.known_hosts == known_hosts
        assert unknown.fingerprint in str(unknown)
        assert sshd.auths == 0  # nothing was authenticated to an unverified server

        written = trust_host_key(unknown)
        assert written == known_hosts
        assert stat.S_IMODE(known_hosts.stat().st_mode) == 0o600
        assert stat.S_IMODE(known_hosts.parent.stat().st_mode) == 0o700
        assert (
            known_hosts.read_text()
            == f"[127.0.0.1]:{sshd.port} {' '.join(unknown.public_key_line.split()[:2])}\n"
        )

        result = await pool.run(host, ["argv", "trusted"])  # a host-key error does not start a backoff
    assert result.stdout == '["trusted"]'
    assert sshd.auths == 1


async def test_changed_host_key_is_refused(sshd: TestSshd, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    other = asyncssh.generate_private_key("ssh-ed25519")
    known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {other.export_public_key().decode()}")
    host = host_for(sshd, known_hosts, trusted=False)
    async with SshPool(config_paths=[]) as pool:
        with pytest.raises(HostKeyChanged) as err:
            await pool.run(host, ["argv", "x"])
    changed = err.value
    assert changed.fingerprint == sshd.host_key.get_fingerprint("sha256")
    assert str(changed).startswith("REFUSED: host db2t")
    assert f"ssh-keygen -R '[127.0.0.1]:{sshd.port}' -f {known_hosts}" in str(changed)
    assert sshd.auths == 0
    with pytest.raises(SshError, match="refusing to trust a changed key"):
        trust_host_key(changed)
    assert known_hosts.read_text().count("\n") == 1  # untouched


async def test_wrong_identity_is_authentication_failed(sshd: TestSshd, tmp_path: Path) -> None:
    stranger = tmp_path / "id_stranger"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(stranger))
    host = replace(host_for(sshd, tmp_path / "known_hosts"), identity=str(stranger))
    async with SshPool(config_paths=[]) as pool:
        with pytest.raises(AuthenticationFailed, match="refused the SSH keys offered for tester"):
            await pool.run(host, ["argv"])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_dead_host_backs_off_exponentially_and_fails_fast(tmp_path: Path) -> None:
    clock = FakeClock()
    host = Host(name="gone", address="127.0.0.1", port=closed_port(), known_hosts=str(tmp_path / "kh"))
    async with SshPool(config_paths=[], reconnect_backoff=(1.0, 4.0), clock=clock) as pool:
        delays = []
        for _ in range(4):
            with pytest.raises(HostUnreachable) as err:
                await pool.run(host, ["argv"])
            assert "cannot connect to 127.0.0.1" in str(err.value)
            delays.append(err.value.retry_in_s)
            clock.now += 0.5  # still inside the backoff: fails fast without connecting
            with pytest.raises(
                HostUnreachable, match=r"gone: not retrying for \d+\.\ds after: cannot connect"
            ):
                await pool.run(host, ["argv"])
            clock.now += err.value.retry_in_s
    assert delays == [1.0, 2.0, 4.0, 4.0]


async def test_server_killed_then_back_reconnects_after_backoff(sshd: TestSshd, tmp_path: Path) -> None:
    clock = FakeClock()
    host = host_for(sshd, tmp_path / "known_hosts")
    async with SshPool(config_paths=[], reconnect_backoff=(1.0, 8.0), clock=clock) as pool:
        assert (await pool.run(host, ["argv", "before"])).ok
        await sshd.stop()
        errors = []
        for _ in range(3):  # lost connection, then refused connect, then fast failure in backoff
            with pytest.raises(HostUnreachable) as err:
                await pool.run(host, ["argv", "down"])
            errors.append(str(err.value))
            if "not retrying" in errors[-1]:
                break
        assert "not retrying" in errors[-1]
        sshd.release.clear()
        await sshd.start(port=sshd.port)
        with pytest.raises(HostUnreachable, match="not retrying"):  # back, but backoff not over yet
            await pool.run(host, ["argv", "too soon"])
        assert sshd.connections == 1
        clock.now += 1.0
        after = await pool.run(host, ["argv", "after"])
    assert after.stdout == '["after"]'
    assert sshd.connections == 2


async def test_closed_pool_refuses_to_run(sshd: TestSshd, tmp_path: Path) -> None:
    host = host_for(sshd, tmp_path / "known_hosts")
    pool = SshPool(config_paths=[])
    await pool.run(host, ["argv"])
    await pool.close()
    with pytest.raises(SshError, match="pool is closed"):
        await pool.run(host, ["argv"])


async def test_ssh_config_alias_is_honoured_and_trusted_under_its_hostname(
    sshd: TestSshd, tmp_path: Path
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host db2alias\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User tester\n  IdentityFile {sshd.identity}\n"
    )
    known_hosts = tmp_path / "known_hosts"
    host = Host(name="db2t", address="db2alias", known_hosts=str(known_hosts))
    async with SshPool(config_paths=[config]) as pool:
        with pytest.raises(HostKeyUnknown) as err:
            await pool.run(host, ["argv", "via config"])
        assert (err.value.address, err.value.port) == ("127.0.0.1", sshd.port)
        trust_host_key(err.value)
        result = await pool.run(host, ["argv", "via config"])
    assert result.stdout == '["via config"]'
    assert known_hosts.read_text().startswith(f"[127.0.0.1]:{sshd.port} ssh-ed25519 ")


def test_trust_host_key_appends_after_a_line_without_newline(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("other.example ssh-ed25519 AAAAold")  # no trailing newline
    err = HostKeyUnknown(
        "db2a", "10.0.1.11", 22, "SHA256:x", "ssh-ed25519", "ssh-ed25519 AAAAnew comment", known_hosts
    )
    trust_host_key(err)
    assert known_hosts.read_text() == "other.example ssh-ed25519 AAAAold\n10.0.1.11 ssh-ed25519 AAAAnew\n"


async def test_reset_backoff_reconnects_at_once_to_a_host_that_came_back(
    sshd: TestSshd, tmp_path: Path
) -> None:
    clock = FakeClock()
    host = host_for(sshd, tmp_path / "known_hosts")
    async with SshPool(config_paths=[], reconnect_backoff=(4.0, 8.0), clock=clock) as pool:
        assert (await pool.run(host, ["argv", "before"])).ok
        await sshd.stop()
        for _ in range(3):  # lost connection, then the refused connect that starts the backoff
            with pytest.raises(HostUnreachable) as err:
                await pool.run(host, ["argv", "down"])
            if "not retrying" in str(err.value):
                break
        assert "not retrying" in str(err.value)
        sshd.release.clear()
        await sshd.start(port=sshd.port)
        assert pool.reset_backoff(host) == 1  # the clock never moved: only the reset allows the connect
        after = await pool.run(host, ["argv", "after"])
        assert pool.reset_backoff() == 0  # connected: nothing left in backoff
    assert after.stdout == '["after"]'
    assert sshd.connections == 2


async def test_reset_backoff_of_a_host_still_down_tries_once_then_backs_off_longer(tmp_path: Path) -> None:
    clock = FakeClock()
    host = Host(name="gone", address="127.0.0.1", port=closed_port(), known_hosts=str(tmp_path / "kh"))
    other = Host(name="never", address="127.0.0.1", port=closed_port(), known_hosts=str(tmp_path / "kh"))
    async with SshPool(config_paths=[], reconnect_backoff=(1.0, 8.0), clock=clock) as pool:
        with pytest.raises(HostUnreachable) as first:
            await pool.run(host, ["argv"])
        assert first.value.retry_in_s == 1.0
        assert pool.reset_backoff(other) == 0  # a host never tried has no backoff to end
        assert pool.reset_backoff(host) == 1
        with pytest.raises(HostUnreachable, match="cannot connect to 127.0.0.1") as again:
            await pool.run(host, ["argv"])  # a real connect attempt, not the fast "not retrying"
        assert again.value.retry_in_s == 2.0  # the failure count was kept: the backoff keeps growing
        with pytest.raises(HostUnreachable, match="not retrying"):
            await pool.run(host, ["argv"])
