"""Counted nouns for what the console and the CLI print: "1 cluster", "3 clusters", never "1 clusters"."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return "1 cluster" / "0 clusters" / "3 clusters"; `plural_form` for an irregular one ("entries").
    Thousands get separators ("1,234 entries")."""
    word = singular if count == 1 else plural_form or f"{singular}s"
    return f"{count:,} {word}"
