"""Secrets out of everything a bundle carries: a bundle goes to IBM support, the application team, a ticket.

The journal already redacts parameters named like secrets (services/plans/step.py `redact`); a bundle also
carries free text it never wrote: remote stdout, log records, a DBA's command line, stdin data. `scrub_text`
replaces, wherever they appear:
- AWS access key ids (AKIA…/ASIA…), AWS secret access keys (40 characters of base64 after a word saying
  so, or alone), STS session tokens;
- private keys (PEM blocks, whole, even unterminated);
- values after a secret-looking name: password=…, "SecretAccessKey": "…", aws_session_token = …,
  Authorization: Bearer …;
- Db2's `connect to DB user U using PASSWORD`, and user:password@ in URLs.
`scrub_data` does the same through JSON-like data (values of secret-looking keys become "***"), keeping every
value's type so a scrubbed snapshot still decodes. Both count what they replaced, for the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

REDACTED = "***"
_SECRET_NAME = r"[\w.-]*(?:password|passwd|pwd|secret|session_?token|security_?token|credential|private_?key|api_?key|access_?token)[\w.-]*"
SECRET_KEY = re.compile(
    r"password|passwd|\bpwd\b|secret|credential|session_?token|security_?token|private_?key|api_?key|access_?token",
    re.IGNORECASE,
)

_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "private key",
        re.compile(
            r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.DOTALL
        ),
        "[private key removed]",
    ),
    (
        "session token",
        re.compile(r"(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz|AgoJb3JpZ2lu)[A-Za-z0-9/+=]{16,}"),
        REDACTED,
    ),
    ("access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{16}\b"), "AKIA" + REDACTED),
    (
        "named secret",
        # name, separator (= : or "name": "), optional quote, then the value up to a quote/space/,;}
        re.compile(
            rf"""(?P<head>["']?{_SECRET_NAME}["']?[ \t]*[:=][ \t]*(?:Bearer[ \t]+)?)(?P<q>["'])?(?P<value>(?(q)[^"'\n]+|[^\s"',;}}]+))""",
            re.IGNORECASE,
        ),
        "",
    ),
    (
        "named secret",  # a command's option: --password hunter2, -pwd hunter2
        re.compile(
            rf"(?P<head>(?<!\S)--?{_SECRET_NAME}[ \t]+)(?P<q>[\"']?)(?P<value>[^\s\"']+)", re.IGNORECASE
        ),
        "",
    ),
    (
        "bearer token",
        re.compile(r"(?P<head>\bAuthorization\s*:\s*\w+\s+)(?P<q>)(?P<value>\S+)", re.IGNORECASE),
        "",
    ),
    (
        "db2 password",
        re.compile(r"(?P<head>\buser\s+\S+\s+using\s+)(?P<q>[\"']?)(?P<value>[^\s\"']+)", re.IGNORECASE),
        "",
    ),
    (
        "url password",
        re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^\s:/@]+:)(?P<q>)(?P<value>[^\s@/]+)(?=@)"),
        "",
    ),
    (
        "secret access key",
        # 40 characters of base64 with upper, lower and a digit (not a hex digest, not a word)
        re.compile(
            r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*\d)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        REDACTED,
    ),
)


@dataclass
class Scrubber:
    """Counts what it replaced, by kind (the report says how many secrets were left out)."""

    found: dict[str, int]

    def __init__(self) -> None:
        self.found = {}

    @property
    def total(self) -> int:
        return sum(self.found.values())

    def text(self, text: str) -> str:
        """Return `text` with every secret replaced."""
        for kind, pattern, replacement in _PATTERNS:
            text = pattern.sub(lambda m, k=kind, r=replacement: self._replace(m, k, r), text)  # type: ignore[misc]
        return text

    def _replace(self, match: re.Match[str], kind: str, replacement: str) -> str:
        groups = match.groupdict()
        if "value" in groups:
            value = groups["value"] or ""
            if value == REDACTED or value.startswith("[") or not value.strip("*"):
                return match.group(0)  # already redacted (the journal's "***")
            self.found[kind] = self.found.get(kind, 0) + 1
            return f"{groups['head']}{groups.get('q') or ''}{REDACTED}"
        self.found[kind] = self.found.get(kind, 0) + 1
        return replacement

    def data(self, value: Any, key: str = "") -> Any:
        """Return `value` (JSON-like data) with secrets replaced; values keep their types."""
        if isinstance(value, str):
            if key and SECRET_KEY.search(key) and value and value != REDACTED:
                self.found["named secret"] = self.found.get("named secret", 0) + 1
                return REDACTED
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.data(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value


def scrub_text(text: str) -> str:
    """`text` without secrets (see the module's docstring)."""
    return Scrubber().text(text)
