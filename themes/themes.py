"""The console's three themes (dark, light, high contrast) as Textual Theme objects.

The TCSS (themes/console.tcss) only uses Textual's standard variables ($success, $error, $warning, ...),
so any registered theme — ours or Textual's built-ins picked from the palette — renders correctly.
"""

from __future__ import annotations

from pathlib import Path

from textual.theme import Theme

CSS_PATH = Path(__file__).with_name("console.tcss")

DARK = Theme(
    name="db2ops-dark",
    primary="#4EA1D3",
    secondary="#7E9CD8",
    accent="#E6A23C",
    warning="#E6A23C",
    error="#E5534B",
    success="#57AB5A",
    foreground="#D8DEE4",
    background="#14181D",
    surface="#1C2128",
    panel="#22272E",
    dark=True,
)

LIGHT = Theme(
    name="db2ops-light",
    primary="#0B5CAD",
    secondary="#5A4FCF",
    accent="#9A6700",
    warning="#9A6700",  # dark amber: readable on white
    error="#B42318",
    success="#1A7F37",
    foreground="#1F2328",
    background="#FFFFFF",
    surface="#F6F8FA",
    panel="#EAEEF2",
    dark=False,
)

HIGH_CONTRAST = Theme(
    name="db2ops-high-contrast",
    primary="#00FFFF",
    secondary="#FFFFFF",
    accent="#FFFF00",
    warning="#FFFF00",
    error="#FF5555",
    success="#00FF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#000000",
    boost="#FFFFFF",
    dark=True,
    text_alpha=1.0,
    luminosity_spread=0.0,
)

THEMES: tuple[Theme, ...] = (DARK, LIGHT, HIGH_CONTRAST)
THEME_NAMES: tuple[str, ...] = tuple(t.name for t in THEMES)
DEFAULT_THEME = DARK.name


def next_theme(current: str) -> str:
    """Return the name of the theme after `current` in the cycle (the first one for a foreign theme)."""
    if current not in THEME_NAMES:
        return THEME_NAMES[0]
    return THEME_NAMES[(THEME_NAMES.index(current) + 1) % len(THEME_NAMES)]


def resolve_theme(name: str, available: set[str] | None = None) -> str:
    """Return `name` when it is one of ours (or in `available`), else the default theme's name."""
    if name in THEME_NAMES or (available is not None and name in available):
        return name
    return DEFAULT_THEME
