"""Dependency warnings that tell a db2ops user nothing, silenced once by each entry point.

Entry points (`db2ops`, `python -m lab`) call quiet_dependency_warnings() before anything imports
asyncssh. Library modules leave the process's warning filters alone.
"""

from __future__ import annotations

import warnings

# The modules a warning is attributed to (its `module` filter): asyncssh and its sub-modules only.
_ASYNCSSH_MODULES = r"asyncssh(\..*)?$"


def quiet_dependency_warnings() -> None:
    """Ignore cryptography's CryptographyDeprecationWarning raised from asyncssh's own modules.

    asyncssh still names cryptography's DSA classes at import (for old DSA keys) and cryptography warns
    on each: about ten lines on stderr before every command's output, none of them actionable by the
    user. Other warnings, and this category from any other module, still show. The filter is appended,
    so an explicit `-W`/PYTHONWARNINGS (e.g. `PYTHONWARNINGS=default` to see everything) still wins.
    Returns None; does nothing when cryptography is not installed.
    """
    try:
        from cryptography.utils import CryptographyDeprecationWarning
    except ImportError:  # no cryptography, no such warning
        return
    warnings.filterwarnings(
        "ignore", category=CryptographyDeprecationWarning, module=_ASYNCSSH_MODULES, append=True
    )
