"""The name rules of the inventory: host names, addresses, Db2 instance and database names.

These values end up in argv of root commands (ssh destinations, db2cm -host, /home/<instance>/sqllib),
so they are held to the rules of the systems that own them: a name that starts with `-` would be read as
an option, one with `/` or `..` would move a path. Each checker returns the value or raises
ValueError(problem, fix), the inventory loader's checker shape.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = [
    "UnsafeOperand",
    "check_address",
    "check_database",
    "check_host_name",
    "check_instance",
    "database_operand",
    "instance_home",
    "is_operand",
    "operand",
]

# RFC 1123 labels (letters, digits, '-' inside; '_' accepted as ssh_config aliases and EC2 tags use it).
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
# Db2: an instance name is the owner's user name, 1-8 of a-z 0-9 _, not starting with a digit or '_'.
_INSTANCE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,7}")
# Db2: a database name is 1-8 of A-Z 0-9 @ # $, not starting with a digit.
_DATABASE = re.compile(r"[A-Za-z@#$][A-Za-z0-9@#$]{0,7}")


def _shown(value: object) -> str:
    return repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "...'"


def check_host_name(value: object) -> str:
    """A host name: dot-separated labels of letters, digits, '-' and '_' (no leading/trailing '-'),
    at most 253 characters."""
    if not isinstance(value, str) or len(value) > 253 or not _HOST_NAME.fullmatch(value):
        raise ValueError(
            f"{_shown(value)} is not a valid host name (letters, digits, '-' and '_' in dot-separated "
            "labels, not starting or ending with '-')",
            "use the node name Pacemaker uses, e.g. name: db2a",
        )
    return value


def check_address(value: object) -> str:
    """An IPv4/IPv6 address or a host name (an ssh_config alias follows the host name rule)."""
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
        if len(value) <= 253 and _HOST_NAME.fullmatch(value):
            return value
    raise ValueError(
        f"{_shown(value)} is not an IP address or host name (letters, digits, '-' and '_' in "
        "dot-separated labels, not starting or ending with '-')",
        "e.g. address: 10.0.1.11 or address: db2a.example.com",
    )


def check_instance(value: object) -> str:
    """A Db2 instance name: 1-8 letters, digits or '_', starting with a letter."""
    if not isinstance(value, str) or not _INSTANCE.fullmatch(value):
        raise ValueError(
            f"{_shown(value)} is not a Db2 instance name (1-8 letters, digits or _, starting with a letter)",
            "use the instance owner's user name, e.g. instance: db2inst1",
        )
    return value


def check_database(value: object) -> str:
    """A Db2 database name: 1-8 letters, digits, @, # or $, not starting with a digit."""
    if not isinstance(value, str) or not _DATABASE.fullmatch(value):
        raise ValueError(
            f"{_shown(value)} is not a Db2 database name (1-8 letters, digits, @, # or $, not starting "
            "with a digit)",
            "use the name `db2 list db directory` shows, e.g. database: HADRDB",
        )
    return value


def is_operand(value: str) -> bool:
    """True when `value` can stand as a positional operand of a tool without `--`: not empty, not an
    option (leading '-'), no control characters."""
    return bool(value) and not value.startswith("-") and value.isprintable()


class UnsafeOperand(ValueError):
    """A value a command builder would put where the tool reads options or paths; refused before sending."""


def operand(value: str, what: str) -> str:
    """Return `value` for use as a positional operand or an option's value in an argv.

    Raises UnsafeOperand when it starts with '-' (the tool would read an option), is empty or holds
    control characters. For tools without `--`; the inventory loader refuses such names already, this
    keeps a Cluster built in code (or a value read from a host) from reaching a root command.
    """
    if not is_operand(value):
        raise UnsafeOperand(
            f"{what} {_shown(value)} would be read as an option (or is empty): not sent; fix the inventory"
        )
    return value


def instance_home(instance: str) -> str:
    """Return /home/<instance> for a valid Db2 instance name; raises UnsafeOperand for any other value
    (e.g. '../../tmp/evil', which would move a root command's path)."""
    try:
        check_instance(instance)
    except ValueError as exc:
        raise UnsafeOperand(f"instance {exc.args[0]}: not sent; {exc.args[1]}") from None
    return f"/home/{instance}"


def database_operand(database: str) -> str:
    """Return `database` when it is a valid Db2 database name; raises UnsafeOperand otherwise."""
    try:
        return check_database(database)
    except ValueError as exc:
        raise UnsafeOperand(f"database {exc.args[0]}: not sent; {exc.args[1]}") from None
