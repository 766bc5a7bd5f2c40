"""Pacemaker from the Db2 media for 11.5.6+, the separate tarball only for 11.5.5: the install method
follows the Db2 level, and a media whose Pacemaker build is not the Db2 level's, or not for the host's RHEL,
is refused before anything is installed."""

from __future__ import annotations

import pytest

from lab.ha_state import IMAGE_PCMK, image_rpms
from lab.release import RELEASES
from services.ha_setup.params import HaParams
from services.ha_setup.pcmk_source import MethodMismatch, decide_method, media_build, media_mismatch
from services.ha_setup.plan import build_ha_plan
from services.plans import run_plan

MEDIA_1158 = [f"{IMAGE_PCMK}/Linux/rhel/x86_64/pacemaker-2.1.2-4.db2pcmk.el8.x86_64.rpm"]


@pytest.mark.parametrize(
    ("level", "method"),
    [("11.5.5.0", "tarball"), ("11.5.6.0", "media"), ("11.5.8.0", "media"), ("12.1.0.0", "media")],
)
def test_auto_follows_the_db2_level(level, method):
    assert decide_method("auto", level) == method
    assert decide_method(method, level) == method


def test_a_method_that_does_not_fit_the_level_is_refused_with_what_to_do():
    with pytest.raises(MethodMismatch) as tarball:
        decide_method("tarball", "11.5.8.0")
    assert "ships its own Pacemaker build on the Db2 install media" in tarball.value.problem
    assert tarball.value.fix == "use install_method media (or auto)"
    with pytest.raises(MethodMismatch) as media:
        decide_method("media", "11.5.5.0")
    assert media.value.fix.startswith("use install_method tarball")


def test_the_media_build_is_compared_with_the_level_and_the_os():
    assert media_build(MEDIA_1158) == ("2.1.2", "el8")
    assert media_mismatch(MEDIA_1158, "11.5.8.0", ("rhel", "8.6")) is None
    problem, fix = media_mismatch(MEDIA_1158, "11.5.7.0", ("rhel", "8.6"))
    assert problem.startswith("the media holds Pacemaker 2.1.2, but Db2 11.5.7.0 ships Pacemaker 2.0.4")
    assert "install image of Db2 11.5.7" in fix
    problem, _ = media_mismatch(MEDIA_1158, "11.5.8.0", ("rhel", "9.2"))
    assert problem == "the media's Pacemaker build is for RHEL 8 (el8 rpms) and this host runs RHEL 9.2"
    # a level the table does not hold: the OS is still compared, the build is not guessed
    assert media_mismatch(MEDIA_1158, "11.5.9.0", ("rhel", "8.8")) is None


async def _dry(lab, **params):
    plan = build_ha_plan(lab.cluster, HaParams.from_mapping(params))
    return await run_plan(plan, lab.context(), mode="dry-run")


async def test_dry_run_on_db2_1158_shows_the_media_commands(fresh_lab):
    result = await _dry(fresh_lab)
    assert result.ok, result.next_hint
    assert result.by_id("prereq-db2@db2a").message.endswith("Pacemaker from the Db2 install media")
    pcmk = [a.command for a in result.by_id("pcmk-install@db2b").actions]
    assert pcmk == ["sudo -n /tmp/server_dec/db2/linuxamd64/pcmk/db2installPCMK -i"]
    agents = [a.command for a in result.by_id("agents@db2a").actions]
    assert agents == ["sudo -n /opt/ibm/db2/V11.5/install/pcmk/db2cppcmk -i"]


async def test_the_tarball_on_db2_1158_is_refused_before_anything_runs(fresh_lab):
    result = await _dry(fresh_lab, install_method="tarball")
    assert result.failed_step == "prereq-db2@db2a"
    message = result.by_id("prereq-db2@db2a").message
    assert "Db2 11.5.8.0 ships its own Pacemaker build on the Db2 install media" in message
    assert message.endswith("use install_method media (or auto)")


def _replace_image(lab, release_key: str) -> None:
    for host in lab.lab.hosts.values():
        for path in [p for p in host.files if p.startswith(IMAGE_PCMK + "/Linux/")]:
            del host.files[path]
        for rpm in image_rpms(RELEASES[release_key]):
            host.files[rpm] = "(rpm)\n"


async def test_a_media_from_another_mod_pack_is_refused(fresh_lab):
    _replace_image(fresh_lab, "11.5.7")  # an 11.5.7 image on hosts running Db2 11.5.8
    result = await _dry(fresh_lab)
    assert result.failed_step == "prereq-media@db2a"
    message = result.by_id("prereq-media@db2a").message
    assert "the media holds Pacemaker 2.0.4, but Db2 11.5.8.0 ships Pacemaker 2.1.2" in message
    assert not result.ok


async def test_a_media_for_another_rhel_is_refused(fresh_lab):
    _replace_image(fresh_lab, "12.1")  # el9 rpms; the lab's 11.5.8 hosts run RHEL 8.6
    result = await _dry(fresh_lab)
    assert result.failed_step == "prereq-media@db2a"
    assert "is for RHEL 9 (el9 rpms) and this host runs RHEL 8.6" in result.by_id("prereq-media@db2a").message
