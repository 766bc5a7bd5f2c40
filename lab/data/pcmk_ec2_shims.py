#!/usr/bin/python3
"""`curl` and `aws-lab` for the nodes of db2ops' real Pacemaker lab (pcmk-lab.sh), first on the PATH of
their Pacemaker daemons, so that Debian's real aws-vpc-move-ip agent runs against the lab's EC2 emulation.

- `curl`: the agent asks the instance metadata service (169.254.169.254) for a token, this instance's id
  and the interface id of its MAC. Those calls are answered here from $LAB_ROOT/aws/metadata.json (written
  by lab/pacemaker.py after seeding the emulation) and never leave the process; any other URL is handed to
  the real /usr/bin/curl only when its host is loopback or in the lab's own network, and refused otherwise.
- `aws-lab`: the real aws CLI (/usr/bin/aws) with --endpoint-url of the lab's EC2 emulation and the lab's
  dummy credentials; it refuses an endpoint outside the lab and never asks the metadata service itself.
Every call is appended to $LAB_ROOT/aws/calls.log (host, tool, verdict, URL or arguments) for the tests.
Standard library only: it runs with the distribution's python inside the lab hosts.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import socket
import sys
import time
from urllib.parse import urlsplit

LAB_ROOT = os.path.dirname(os.path.realpath(__file__))  # installed as $LAB_ROOT/ec2-shims.py
IMDS = "169.254.169.254"
TOKEN = "db2ops-lab-imds-token"
REAL_CURL = "/usr/bin/curl"
REAL_AWS = "/usr/bin/aws"
CURL_COULDNT_CONNECT = 7


def lab_net() -> str:
    try:
        with open(os.path.join(LAB_ROOT, "lab.env")) as fh:
            for line in fh:
                key, _, value = line.strip().partition("=")
                if key == "NET":
                    return shlex.split(value)[0]
    except (OSError, ValueError, IndexError):
        pass
    return "10.99.0"


def allowed(host: str) -> bool:
    """Loopback or the lab's /24: the only addresses a lab host may contact."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name would need DNS, which the lab has not got
    return address.is_loopback or address in ipaddress.ip_network(f"{lab_net()}.0/24")


def log(tool: str, verdict: str, what: str) -> None:
    line = f"{time.time():.3f} {socket.gethostname()} {tool} {verdict} {what}\n"
    try:
        with open(os.path.join(LAB_ROOT, "aws", "calls.log"), "a") as fh:
            fh.write(line)
    except OSError:
        pass


def metadata() -> dict[str, str]:
    try:
        with open(os.path.join(LAB_ROOT, "aws", "metadata.json")) as fh:
            data: dict[str, dict[str, str]] = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data.get(socket.gethostname(), {})


def imds(method: str, path: str, headers: list[str]) -> str | None:
    """The metadata service's answer for `path`, or None for a 404."""
    if method == "PUT" and path == "/latest/api/token":
        return TOKEN
    if f"X-aws-ec2-metadata-token: {TOKEN}" not in headers:
        return None  # IMDSv2: no token, no answer (the real service says 401)
    me = metadata()
    if path == "/latest/meta-data/instance-id":
        return me.get("instance_id")
    prefix, suffix = "/latest/meta-data/network/interfaces/macs/", "/interface-id"
    if path.startswith(prefix) and path.endswith(suffix):
        mac = path[len(prefix) : -len(suffix)].lower()
        return me.get("interface_id") if mac == me.get("mac", "").lower() else None
    return None


def curl(args: list[str]) -> int:
    method, headers, urls = "GET", [], []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-X", "--request") and i + 1 < len(args):
            method, i = args[i + 1], i + 1
        elif a.startswith("-") and not a.startswith("--") and "X" in a[1:] and i + 1 < len(args):
            method, i = args[i + 1], i + 1  # -sX PUT
        elif a in ("-H", "--header") and i + 1 < len(args):
            headers.append(args[i + 1])
            i += 1
        elif a.startswith(("http://", "https://")):
            urls.append(a)
        i += 1
    hosts = [urlsplit(u).hostname or "" for u in urls]
    if hosts and all(h == IMDS for h in hosts):
        for url in urls:
            answer = imds(method, urlsplit(url).path, headers)
            log("curl", "answered" if answer is not None else "404", f"{method} {url}")
            print(answer if answer is not None else "404 - Not Found", end="")
        return 0
    refused = [u for u, h in zip(urls, hosts, strict=True) if not allowed(h)]
    if refused:
        log("curl", "refused", " ".join(refused))
        print(
            f"curl (db2ops lab): refusing {' '.join(refused)}: a lab host may only contact loopback and the "
            f"lab's network {lab_net()}.0/24",
            file=sys.stderr,
        )
        return CURL_COULDNT_CONNECT
    log("curl", "passed", " ".join(urls))
    os.execv(REAL_CURL, [REAL_CURL, *args])
    return 0  # not reached


def aws(args: list[str]) -> int:
    try:
        with open(os.path.join(LAB_ROOT, "aws", "endpoint")) as fh:
            endpoint = fh.read().strip()
    except OSError:
        print("aws-lab: the lab's EC2 emulation is not set up ($LAB_ROOT/aws/endpoint)", file=sys.stderr)
        return 255
    if not allowed(urlsplit(endpoint).hostname or ""):
        log("aws", "refused", endpoint)
        print(
            f"aws-lab: refusing endpoint {endpoint}: outside loopback and the lab's network", file=sys.stderr
        )
        return 255
    log("aws", "run", shlex.join(args))
    env = {
        **os.environ,
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(LAB_ROOT, "aws", "credentials"),
        "AWS_CONFIG_FILE": os.path.join(LAB_ROOT, "aws", "config"),
        "AWS_EC2_METADATA_DISABLED": "true",  # credentials and region come from the files, never from IMDS
        "NO_PROXY": "*",
    }
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "AWS_PROFILE"):
        env.pop(key, None)
    os.execve(REAL_AWS, [REAL_AWS, "--endpoint-url", endpoint, *args], env)
    return 0  # not reached


def main() -> int:
    tool = os.path.basename(sys.argv[0])
    if tool == "curl":
        return curl(sys.argv[1:])
    if tool == "aws-lab":
        return aws(sys.argv[1:])
    print(f"run me as curl or aws-lab (symlinks), not {tool}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
