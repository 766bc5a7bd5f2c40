"""Lab host answers for the HA runbook's host-level commands: /etc/os-release and /etc/hosts, chronyc,
id / getent, db2ls, tar / find on the Pacemaker media, rpm -q, dnf / yum install, db2installPCMK and
db2cppcmk, ls / stat, ssh between the hosts, the AWS CLI, ip address. Registered on import
(lab/commands.py imports this module at its end); db2cm, crm and the status tools are in
lab/commands_ha_cluster.py.

Layouts copy the real tools (RHEL 8 os-release, chrony 4, coreutils, rpm, dnf, iproute2); where no
capture was available the text is marked "approximation" next to it. Nothing runs on this machine.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import posixpath
import time

from lab import ha_state as ha
from lab.command_registry import CommandContext, Result, not_found, register_command, run_command
from lab.db2admin_state import host_state, normpath


def os_release(rhel: str) -> str:
    """Return /etc/os-release of RHEL `rhel` ("8.8", "9.2"): the level the cluster's release runs on."""
    major = rhel.split(".")[0]
    codename = "Ootpa" if major == "8" else "Plow"
    return f"""NAME="Red Hat Enterprise Linux"
VERSION="{rhel} ({codename})"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="{rhel}"
PLATFORM_ID="platform:el{major}"
PRETTY_NAME="Red Hat Enterprise Linux {rhel} ({codename})"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:{major}::baseos"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/{major}"
BUG_REPORT_URL="https://bugzilla.redhat.com/"

REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux {major}"
REDHAT_BUGZILLA_PRODUCT_VERSION={rhel}
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="{rhel}"
"""


AGENT_SIZES = {"db2ethmon": 11_482, "db2hadr": 37_905, "db2inst": 25_342}
# The kernel each RHEL minor ships (uname -r); aws --version prints it.
KERNELS = {"8": "4.18.0-{n}.el8_{m}.x86_64", "9": "5.14.0-{n}.el9_{m}.x86_64"}


def aws_version(rhel: str) -> str:
    major, minor = rhel.split(".")
    kernel = KERNELS[major].format(n=f"{305 + 43 * int(minor)}.10.1", m=minor)
    return f"aws-cli/2.13.25 Python/3.11.5 Linux/{kernel} exe/x86_64.rhel.{major} prompt/off"


def _st(ctx: CommandContext) -> ha.HostHa:
    return ha.host_ha(ctx.cluster, ctx.host)


def etc_hosts(ctx: CommandContext) -> str:
    """Return the host's /etc/hosts: every lab host as `ipaddress fully_qualified_domain_name alias`."""
    lines = [
        "127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4",
        "::1         localhost localhost.localdomain localhost6 localhost6.localdomain6",
    ]
    lines += [f"{h.address:<11} {h.name}.lab.internal {h.name}" for h in ctx.cluster.hosts.values()]
    return "\n".join(lines) + "\n"


def _cat(ctx: CommandContext) -> Result:
    ha.cluster_ha(ctx.cluster)  # the media files exist from the first command on
    if ctx.args[0] == "/etc/os-release":
        return 0, os_release(ctx.cluster.release.rhel), ""
    return 0, etc_hosts(ctx), ""


def _chronyc(ctx: CommandContext) -> Result:
    if "chrony" not in _st(ctx).packages:
        return not_found("chronyc")
    if ctx.args != ["tracking"]:
        return 1, "", "chronyc: the db2ops lab emulates only `chronyc tracking`\n"
    ref = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(ctx.cluster.clock() - 31))
    return (
        0,
        (
            "Reference ID    : A9FEA97B (169.254.169.123)\n"
            "Stratum         : 4\n"
            f"Ref time (UTC)  : {ref}\n"
            "System time     : 0.000012345 seconds fast of NTP time\n"
            "Last offset     : -0.000004213 seconds\n"
            "RMS offset      : 0.000021876 seconds\n"
            "Frequency       : 9.876 ppm slow\n"
            "Residual freq   : -0.001 ppm\n"
            "Skew            : 0.017 ppm\n"
            "Root delay      : 0.000425345 seconds\n"
            "Root dispersion : 0.000212847 seconds\n"
            "Update interval : 16.2 seconds\n"
            "Leap status     : Normal\n"
        ),
        "",
    )


def _id(ctx: CommandContext) -> Result:
    user = ctx.args[-1] if ctx.args else "db2inst1"
    if user == "root":
        return 0, "uid=0(root) gid=0(root) groups=0(root)\n", ""
    if user == ctx.cluster.instance and ctx.host.role == "db":
        return 0, f"uid=1001({user}) gid=1001(db2iadm1) groups=1001(db2iadm1)\n", ""
    return 1, "", f"id: '{user}': no such user\n"


def _getent(ctx: CommandContext) -> Result:
    if len(ctx.args) != 2:
        return 1, "", "getent: the db2ops lab emulates getent hosts|group NAME\n"
    database, key = ctx.args
    if database == "hosts":
        for line in etc_hosts(ctx).splitlines():
            words = line.split()
            if key in words[1:]:
                return 0, f"{words[0]:<15} {' '.join(words[1:])}\n", ""
    if database == "group" and key == "db2iadm1" and ctx.host.role == "db":
        return 0, "db2iadm1:x:1001:\n", ""
    return 2, "", ""


def _db2ls(ctx: CommandContext) -> Result:
    # approximation of db2ls's table (IBM docs layout), one installation
    stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(ctx.cluster.clock() - 86_400 * 30))
    header = (
        "\nInstall Path                       Level   Fix Pack   Special Install Number   Install Date"
        "                  Installer UID \n" + "-" * 117 + "\n"
    )
    install = f"/opt/ibm/db2/V{'.'.join(ctx.cluster.release.db2.split('.')[:2])}"
    row = f"{install:<33}{ctx.cluster.release.db2_level:>10}{0:>9}{'':>29}{stamp} UTC{0:>14} \n"
    return 0, header + row, ""


def _tar(ctx: CommandContext) -> Result:
    ha.cluster_ha(ctx.cluster)  # seeds the media files on first use
    args = list(ctx.args)
    flags = args[0].lstrip("-") if args else ""
    if "f" not in flags or len(args) < 2:
        return 2, "", "tar: the db2ops lab emulates tar -tzf FILE and tar -zxf FILE -C DIR\n"
    archive = args[1]
    if archive not in ctx.host.files or archive != ha.TARBALL:
        return (
            2,
            "",
            (
                f"tar (child): {archive}: Cannot open: No such file or directory\n"
                "tar (child): Error is not recoverable: exiting now\n"
                "tar: Child returned status 2\ntar: Error is not recoverable: exiting now\n"
            ),
        )
    if "t" in flags:
        return 0, "\n".join(ha.tarball_members()) + "\n", ""
    directory = args[args.index("-C") + 1] if "-C" in args[:-1] else ctx.env.get("PWD", "/root")
    if normpath(directory) not in host_state(ctx.cluster, ctx.host).dirs:
        return 2, "", f"tar: {directory}: Cannot open: No such file or directory\n"
    ha.extract_tarball(ctx.cluster, ctx.host, directory)
    return 0, "", ""


def _find(ctx: CommandContext) -> Result:
    ha.cluster_ha(ctx.cluster)  # seeds the media files on first use
    args = ctx.args
    if len(args) != 3 or args[1] != "-name":
        return 1, "", "find: the db2ops lab emulates only find DIR -name PATTERN\n"
    base = normpath(args[0])
    if base not in host_state(ctx.cluster, ctx.host).dirs:
        return 1, "", f"find: '{args[0]}': No such file or directory\n"
    found = sorted(
        p
        for p in ctx.host.files
        if p.startswith(base + "/") and fnmatch.fnmatch(posixpath.basename(p), args[2])
    )
    return 0, "".join(f"{p}\n" for p in found), ""


def _rpm(ctx: CommandContext) -> Result:
    if ctx.args[:1] != ["-q"] or len(ctx.args) < 2:
        return 1, "", "rpm: the db2ops lab emulates only rpm -q NAME...\n"
    installed = _st(ctx).packages
    build = _st(ctx).build or ctx.cluster.release
    lines = [ha.nvra(n, build) if n in installed else f"package {n} is not installed" for n in ctx.args[1:]]
    return sum(1 for n in ctx.args[1:] if n not in installed), "\n".join(lines) + "\n", ""


def _package_of(ctx: CommandContext, item: str) -> tuple[str | None, str]:
    """Return (package name, error) for a dnf argument: a name, an .rpm path or an https .rpm URL."""
    if item.startswith("https://"):
        return ("epel-release", "") if "epel-release" in item else (None, f"Curl error: {item}")
    if item.endswith(".rpm"):
        if item not in ctx.host.files:
            return None, f"Can not load RPM file: {item}."
        for rel in (ctx.cluster.release, ha.TARBALL_RELEASE):
            name = next((n for n in ha.PACKAGES if ha.rpm_file(n, rel) == posixpath.basename(item)), None)
            if name:
                _st(ctx).build = rel  # the tarball's rpms are the 11.5.5 build, the media's the cluster's
                return name, ""
        return None, f"Can not load RPM file: {item}."
    if item in ha.OS_PACKAGES or item in ha.PACKAGES:
        return item, ""
    return None, f"No match for argument: {item}"


def _dnf(ctx: CommandContext) -> Result:
    words = [a for a in ctx.args if not a.startswith("-")]
    if words[:1] != ["install"] or len(words) < 2:
        return 1, "", f"{ctx.argv[0]}: the db2ops lab emulates only {ctx.argv[0]} install [-y] PACKAGE...\n"
    st, wanted = _st(ctx), []
    for item in words[1:]:
        name, error = _package_of(ctx, item)
        if name is None:
            return 1, "", f"{error}\nError: Unable to find a match: {item}\n"
        wanted.append(name)
    new = [n for n in dict.fromkeys(wanted) if n not in st.packages]
    if not new:
        return 0, "Dependencies resolved.\nNothing to do.\nComplete!\n", ""
    st.packages.update(new)
    listing = "\n".join(f"  {ha.nvra(n, st.build or ctx.cluster.release)}" for n in new)
    return (
        0,
        (
            "Dependencies resolved.\n"
            f"Transaction Summary\n{'=' * 80}\nInstall  {len(new)} Package{'s' if len(new) > 1 else ''}\n\n"
            f"Running transaction\nInstalled:\n{listing}\n\nComplete!\n"
        ),
        "",
    )


def _db2install_pcmk(ctx: CommandContext) -> Result:
    # approximation of db2installPCMK's messages
    if ctx.args != ["-i"]:
        return 1, "", "db2installPCMK: usage: db2installPCMK -i\n"
    _st(ctx).packages.update(n for n in ha.PACKAGES if n not in ha.QNETD_PACKAGES)
    _st(ctx).build = ctx.cluster.release  # the Db2 media's own build
    ha.install_db2cm(ctx.cluster, ctx.host)  # a Db2 11.5.6+ install has db2cm in sqllib/adm already
    return 0, 'Installing "Pacemaker"\nThe installation of "Pacemaker" completed successfully.\n', ""


def _db2cppcmk(ctx: CommandContext) -> Result:
    if ctx.args != ["-i"]:
        return 1, "", "db2cppcmk: usage: db2cppcmk -i | -r\n"
    if not _st(ctx).pacemaker():
        return 1, "", "Error: Pacemaker is not installed. Install it first (db2installPCMK -i).\n"
    _st(ctx).agents = True
    return (
        0,
        "Db2 resource agent scripts were successfully installed in /usr/lib/ocf/resource.d/heartbeat.\n",
        "",
    )


def _ls(ctx: CommandContext) -> Result:
    ha.cluster_ha(ctx.cluster)  # seeds the media files on first use
    paths = [a for a in ctx.args if not a.startswith("-")]
    out, err, status = [], [], 0
    stamp = time.strftime("%b %d %H:%M", time.gmtime(ctx.cluster.clock() - 3_600))
    for path in paths:
        agent = posixpath.basename(path)
        if posixpath.dirname(path) == ha.OCF_HEARTBEAT and agent in AGENT_SIZES and _st(ctx).agents:
            out.append(f"-rwxr-xr-x 1 root root {AGENT_SIZES[agent]} {stamp} {path}\n")
        elif path in ctx.host.files:
            out.append(f"-rw-r--r-- 1 root root {len(ctx.host.files[path])} {stamp} {path}\n")
        elif normpath(path) in host_state(ctx.cluster, ctx.host).dirs:
            out.append(f"{path}\n")
        else:
            err.append(f"ls: cannot access '{path}': No such file or directory\n")
            status = 2
    return status, "".join(out), "".join(err)


def _stat(ctx: CommandContext) -> Result:
    ha.cluster_ha(ctx.cluster)  # seeds the media files on first use
    if len(ctx.args) != 3 or ctx.args[:2] != ["-c", "%a"]:
        return 1, "", "stat: the db2ops lab emulates only stat -c %a PATH\n"
    path = ctx.args[2]
    if path not in ctx.host.files:
        return 1, "", f"stat: cannot statx '{path}': No such file or directory\n"
    mode = host_state(ctx.cluster, ctx.host).modes.get(path, "644")
    return 0, f"{mode.lstrip('0') or '0'}\n", ""


def _ssh(ctx: CommandContext) -> Result:
    args, i, target, rest = ctx.args, 0, None, []
    while i < len(args):
        if args[i] in ("-o", "-l", "-p", "-i"):
            i += 2
        elif args[i].startswith("-"):
            i += 1
        elif target is None:
            target, i = args[i], i + 1
            rest = [a for a in args[i:] if a not in ("-l", "root")]
            break
        else:
            break
    if target is None:
        return 255, "", "usage: ssh [-l login_name] destination [command]\n"
    host = ctx.cluster.hosts.get(target.split(".", 1)[0])
    if host is None:
        return 255, "", f"ssh: Could not resolve hostname {target}: Name or service not known\r\n"
    if not host.up:
        return 255, "", f"ssh: connect to host {target} port 22: No route to host\r\n"
    if not _st(ctx).root_ssh:
        return 255, "", "root@" + f"{target}: Permission denied (publickey,gssapi-keyex,gssapi-with-mic).\r\n"
    if rest == ["ls"]:
        return 0, "anaconda-ks.cfg\n", ""
    return run_command(ctx.cluster, host, rest) if rest else (0, "", "")


def _aws(ctx: CommandContext) -> Result:
    args = ctx.args
    if args == ["--version"]:
        return 0, aws_version(ctx.cluster.release.rhel) + "\n", ""
    if args[:3] == ["configure", "get", "region"]:
        profile = args[args.index("--profile") + 1] if "--profile" in args[:-1] else "default"
        region = _st(ctx).aws_region if profile == "default" else ""
        return (0, f"{region}\n", "") if region else (1, "", "")
    return 2, "", "aws: the db2ops lab emulates only aws --version and aws configure get region\n"


def _ip_lines(ctx: CommandContext) -> list[str]:
    state, cluster = ha.cluster_ha(ctx.cluster), ctx.cluster
    addresses = list(_st(ctx).addresses)
    overlay = f"{cluster.overlay_ip}/32"
    if state.oip_name and state.oip_managed:  # the agent owns the overlay IP: on the promoted node only
        addresses = [a for a in addresses if a != overlay]
        if cluster.promoted == ctx.host.name and ctx.host.name in cluster.online_nodes():
            addresses.append(overlay)
    out = []
    for cidr in addresses:
        net = ipaddress.IPv4Interface(cidr)
        if net.network.prefixlen < 32:
            out.append(
                f"2: {ha.NIC}    inet {cidr} brd {net.network.broadcast_address} scope global dynamic "
                f"{ha.NIC}\\       valid_lft 3563sec preferred_lft 3563sec"
            )
        else:
            out.append(
                f"2: {ha.NIC}    inet {cidr} scope global {ha.NIC}\\       valid_lft forever preferred_lft forever"
            )
    return out


def _ip(ctx: CommandContext) -> Result:
    args = [a for a in ctx.args if a != "-o"]
    if args[:1] in (["address"], ["addr"], ["a"]) and len(args) >= 2 and args[1] in ("add", "del"):
        if len(args) != 5 or args[3] != "dev":
            return 1, "", 'Command line is not complete. Try option "help"\n'
        if args[4] != ha.NIC:
            return 1, "", f'Cannot find device "{args[4]}"\n'
        addresses = _st(ctx).addresses
        if args[1] == "add":
            if args[2] in addresses:
                return 2, "", "RTNETLINK answers: File exists\n"
            addresses.append(args[2])
        elif args[2] in addresses:
            addresses.remove(args[2])
        else:
            return 2, "", "RTNETLINK answers: Cannot assign requested address\n"
        return 0, "", ""
    if args[:2] in (["address", "show"], ["addr", "show"], ["a", "show"]):
        if len(args) == 4 and args[2] == "dev" and args[3] != ha.NIC:
            return 1, "", f'Device "{args[3]}" does not exist.\n'
        return 0, "".join(f"{line}\n" for line in _ip_lines(ctx)), ""
    return (
        1,
        "",
        "ip: the db2ops lab emulates ip -o address show [dev NIC] and ip address add|del CIDR dev NIC\n",
    )


def register() -> None:
    """Register every handler of this module with lab/commands.py (done once, on import)."""
    register_command(
        "cat", _cat, match=lambda argv: len(argv) == 2 and argv[1] in ("/etc/os-release", "/etc/hosts")
    )
    for name, handler in (
        ("chronyc", _chronyc),
        ("id", _id),
        ("getent", _getent),
        ("tar", _tar),
        ("find", _find),
        ("rpm", _rpm),
        ("dnf", _dnf),
        ("yum", _dnf),
        ("ls", _ls),
        ("stat", _stat),
        ("ssh", _ssh),
        ("ip", _ip),
    ):
        register_command(name, handler)
    for name, handler in (("db2ls", _db2ls), ("db2installPCMK", _db2install_pcmk), ("db2cppcmk", _db2cppcmk)):
        register_command(name, handler, roles=("db",))
    register_command("aws", _aws, roles=("db",))


register()
