"""An identity that cannot be used is reported as what it is, not as "check the address / sshd": a
passphrase-protected key (made by the real ssh-keygen), a public key given as the identity, a missing file.
Against the real asyncssh server of sshd_fixture: nothing reaches it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import asyncssh
import pytest

from infra.sshd_fixture import TestSshd
from services.inventory.model import Host
from services.ssh.pool import AuthenticationFailed, IdentityUnusable, SshPool

# sshd and no_agent: tests/infra/conftest.py (the test server; only the test's identity is offered)
pytestmark = pytest.mark.usefixtures("no_agent")


def _host(sshd: TestSshd, tmp_path: Path, identity: Path) -> Host:
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    return Host(name="db2t", address="127.0.0.1", port=sshd.port, user="tester", identity=str(identity),
                known_hosts=str(known))  # fmt: skip


def _encrypted_key(path: Path) -> None:
    """A passphrase-protected ed25519 key, as ssh-keygen writes it (asyncssh's PKCS#8 when no ssh-keygen)."""
    keygen = shutil.which("ssh-keygen")
    if keygen:
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "s3cret", "-f", str(path)], check=True)
    else:
        key = asyncssh.generate_private_key("ssh-ed25519")
        key.write_private_key(str(path), format_name="pkcs8-pem", passphrase="s3cret")
        path.chmod(0o600)


async def test_a_passphrase_protected_identity_says_so_and_what_to_do(sshd: TestSshd, tmp_path: Path) -> None:
    key = tmp_path / "id_locked"
    _encrypted_key(key)
    async with SshPool(config_paths=[]) as pool:
        with pytest.raises(IdentityUnusable) as err:
            await pool.run(_host(sshd, tmp_path, key), ["argv"])
    text = str(err.value)
    assert text.startswith(f"db2t: the identity {key} is passphrase-protected")
    assert f"ssh-add {key}" in text and "check the address" not in text
    assert isinstance(err.value, AuthenticationFailed)  # the status shows it as an authentication problem
    assert sshd.auths == 0


async def test_a_public_key_as_the_identity_is_not_a_private_key(sshd: TestSshd, tmp_path: Path) -> None:
    pub = tmp_path / "id_test.pub"
    pub.write_text(sshd.client_key.export_public_key().decode())
    async with SshPool(config_paths=[]) as pool:
        with pytest.raises(
            IdentityUnusable, match=r"is not a private key db2ops can use \(Invalid private key\)"
        ):
            await pool.run(_host(sshd, tmp_path, pub), ["argv"])


async def test_a_missing_identity_names_the_file(sshd: TestSshd, tmp_path: Path) -> None:
    missing = tmp_path / "id_nowhere"
    async with SshPool(config_paths=[]) as pool:
        with pytest.raises(IdentityUnusable, match=f"the identity {missing} does not exist"):
            await pool.run(_host(sshd, tmp_path, missing), ["argv"])
