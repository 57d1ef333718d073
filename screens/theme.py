"""How status reads on screen, in one place.

Every status has a word and a shape (`✗ FAIL`, `NO-GO`, `✓ pass`) and an emphasis (bold,
reverse for the ones that must jump out); colour only adds to them. And one line filter keeps
every foreground readable against its background: under NO_COLOR Textual turns each colour into
the grey of its luminance, so red on a dark surface (or the reverse of it) becomes a grey a step
or two from its background; here such a pair is pulled apart until it reads (WCAG contrast),
in NO_COLOR and in every theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter, Monochrome

# ---------------------------------------------------------------- tones

TONE = {
    "good": "bold green",
    # a failure: reverse video, so it is a block in any palette (its contrast is kept below)
    "bad": "bold red reverse",
    # a failure inside running text, where a block would be noise
    "bad-text": "bold underline red",
    "error": "bold magenta",
    "warn": "bold yellow",
    "muted": "dim",
    "busy": "italic",
    "plain": "",
}

STATUS = {
    "pass": ("✓ pass", "good"),
    "fail": ("✗ FAIL", "bad"),
    "error": ("! error", "error"),
    "inconclusive": ("? incon.", "warn"),
    "running": ("… running", "busy"),
    "never": ("· never", "muted"),
}
"""A verdict (probe, gate target) as its word and shape, and its tone."""

VERDICT = {"go": "✓ GO", "no-go": "✗ NO-GO", "inconclusive": "? INCONCLUSIVE"}
VERDICT_TONE = {
    "go": "bold reverse green",
    "no-go": TONE["bad"],
    "inconclusive": "bold reverse yellow",
}

STEP_GLYPH = {"pending": "○", "done": "✓", "skipped": "»", "failed": "✗"}
STEP_TONE = {"pending": "plain", "done": "good", "skipped": "muted", "failed": "bad"}


def style(tone: str) -> str:
    """The Rich style of a tone ('bad', 'good', …); an unknown tone is plain."""
    return TONE.get(tone, "")


def status_text(status: str) -> Text:
    """A verdict's cell: '✗ FAIL' in its tone (an unknown status as its own word)."""
    label, tone = STATUS.get(status, (status, "plain"))
    return Text(label, style=style(tone))


def verdict_badge(verdict: str) -> Text:
    """The go / no-go badge: ' ✗ NO-GO ', a block that reads without colour."""
    badge = Text()
    badge.append(
        f" {VERDICT.get(verdict, verdict.upper())} ", style=VERDICT_TONE.get(verdict, "bold")
    )
    return badge


def step_mark(status: str) -> Text:
    """A walkthrough step's glyph in its tone."""
    return Text(STEP_GLYPH.get(status, "?"), style=style(STEP_TONE.get(status, "plain")))


# ---------------------------------------------------------------- contrast

MONO_MIN_CONTRAST = 4.5
"""In greys only the luminance difference is left to read by (WCAG AA for text)."""
MONO_BADGE_CONTRAST = 7.0
"""A reverse-video badge in greys (✗ FAIL, NO-GO, '1 failed'): the block must stand out (AAA)."""
COLOUR_MIN_CONTRAST = 3.0
"""With colour, hue helps; below this a pair still blurs (WCAG for large text and UI)."""


def luminance(color: Color) -> float:
    """WCAG relative luminance, 0 (black) … 1 (white)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = color.rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: Color, b: Color) -> float:
    """WCAG contrast ratio of two colours, 1 … 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable(fg: Color, bg: Color, minimum: float) -> Color:
    """`fg`, moved towards white (on a dark `bg`) or black just far enough to reach `minimum`."""
    if contrast(fg, bg) >= minimum:
        return fg
    white, black = Color(255, 255, 255), Color(0, 0, 0)
    target = white if contrast(white, bg) >= contrast(black, bg) else black
    lo, hi = 0.0, 1.0
    for _ in range(12):  # bisect the blend factor: the least change that reads
        mid = (lo + hi) / 2
        if contrast(fg.blend(target, mid), bg) >= minimum:
            hi = mid
        else:
            lo = mid
    return fg.blend(target, hi)


@lru_cache(4096)
def readable_style(style: Style, background: Color, mono: bool) -> Style:
    """The segment's style with its foreground readable on its background (both grey if `mono`)."""
    if style.color is None or style.color.is_default:
        if not mono or style.bgcolor is None:
            return style
        if style.bgcolor.is_default:
            return style
        bg = Color.from_rich_color(style.bgcolor).monochrome
        return style + Style.from_color(None, bg.rich_color)
    fg = Color.from_rich_color(style.color)
    has_bg = style.bgcolor is not None and not style.bgcolor.is_default
    bg = Color.from_rich_color(style.bgcolor) if has_bg else background
    if mono:
        fg, bg = fg.monochrome, bg.monochrome
    if mono:
        minimum = MONO_BADGE_CONTRAST if style.reverse else MONO_MIN_CONTRAST
    else:
        minimum = COLOUR_MIN_CONTRAST
    fixed = readable(fg, bg, minimum)
    if mono:
        return style + Style.from_color(fixed.rich_color, bg.rich_color)
    return style if fixed == fg else style + Style.from_color(fixed.rich_color)


class ReadableColours(LineFilter):
    """Every foreground kept readable on its background; with `mono`, greys (Textual's
    Monochrome for NO_COLOR, without its pairs that blur)."""

    def __init__(self, mono: bool, enabled: bool = True) -> None:
        super().__init__(enabled)
        self.mono = mono

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        mono = self.mono
        return [
            Segment(
                text,
                seg_style if seg_style is None else readable_style(seg_style, background, mono),
                control,
            )
            for text, seg_style, control in segments
        ]


_COLOUR = ReadableColours(mono=False)
_MONO = ReadableColours(mono=True)


def readable_filters(filters: Sequence[LineFilter]) -> list[LineFilter]:
    """The app's line filters with Monochrome made readable, and a contrast floor in colour."""
    out = [_MONO if isinstance(f, Monochrome) else f for f in filters]
    if _MONO not in out:
        out.append(_COLOUR)
    return out
