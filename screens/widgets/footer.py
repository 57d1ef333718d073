"""The footer of key hints: what matters on this screen first, fitted to the terminal's width.

Textual's Footer lists the focused widget's keys before the screen's (a table's hidden Enter
hides the screen's "Enter run probe"), gives each F-key its own word (at 80 columns the row is
cut: `… f5 Gates  f6▏^p palette`) and leaves Ctrl+Q out. This one shows the screen's keys in the
order the screen declares them (Enter first), then F1 Help, the F-keys (as `f2 f3 f4 f5 f6
screens` when their words do not fit), and `^q Quit` last; keys of the screen that still do
not fit are left to F1, from the least important (the last declared) on.

It also has its hints in its first frame: Textual's Footer composes nothing until the screen
announces its bindings, a few frames after the screen is up.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.widget import Widget

SCREEN_KEYS = ("f2", "f3", "f4", "f5", "f6")
"""The app's keys to the other screens."""
KEPT_KEYS = frozenset({"enter", "escape"})
"""A screen's keys the footer never leaves out: what it does, and the way back."""


@dataclass
class Hint:
    key: str
    display: str
    description: str
    action: str
    enabled: bool = True

    @property
    def width(self) -> int:
        """Cells it takes in the compact footer (key, space, words, the gap after it)."""
        return len(self.display) + (1 + len(self.description) if self.description else 0) + 1


def _bindings(node: object) -> list[Binding]:
    out = []
    for b in getattr(type(node), "BINDINGS", []):
        b = b if isinstance(b, Binding) else Binding(*b)
        for key in b.key.split(","):
            out.append(Binding(key.strip(), b.action, b.description, b.show, id=b.id))
    return out


def screen_hints(screen: object) -> tuple[list[Hint], Hint | None, list[Hint], Hint | None]:
    """The screen's shown keys in its order, F1, the F-keys and Ctrl+Q, as the footer has them."""
    app = screen.app  # type: ignore[attr-defined]
    active = screen.active_bindings  # type: ignore[attr-defined]
    describe = getattr(screen, "key_description", None)
    hidden = getattr(screen, "footer_hidden", None)

    def hint(b: Binding, node: object) -> Hint | None:
        entry = active.get(b.key)
        if entry is None:
            return None  # check_action hid it: the key cannot act on this screen
        enabled = entry.enabled if entry.node is node else True  # shadowed: a widget acts for it
        words = (describe(b) if describe else None) or b.description
        return Hint(b.key, app.get_key_display(b), words, b.action, enabled)

    ours: list[Hint] = []
    for b in _bindings(screen):
        h = hint(b, screen) if b.show and not (hidden and hidden(b)) else None
        if h is not None and all(o.key != h.key for o in ours):
            ours.append(h)
    seen = {h.key for h in ours}
    for entry in active.values():  # a focused widget's own shown keys, after the screen's
        b = entry.binding
        if b.show and entry.node is not app and entry.node is not screen and b.key not in seen:
            ours.append(Hint(b.key, app.get_key_display(b), b.description, b.action, entry.enabled))
            seen.add(b.key)
    app_keys = {b.key: b for b in _bindings(app)}

    def app_hint(key: str) -> Hint | None:
        b = app_keys.get(key)
        return hint(b, app) if b is not None and key not in seen else None

    fkeys = [h for h in (app_hint(k) for k in SCREEN_KEYS) if h is not None]
    return ours, app_hint("f1"), fkeys, app_hint("ctrl+q")


def fit(
    ours: list[Hint], help_: Hint | None, fkeys: list[Hint], quit_: Hint | None, width: int
) -> tuple[list[Hint], list[Hint], bool]:
    """What fits in `width`: (the screen's hints kept, the F-keys, whether the F-keys have
    their words). Help, Quit, Enter and Esc always stay; the F-keys' words go before any key
    of the screen does, then the screen's keys from the last declared, then the F-keys."""
    fixed = sum(h.width for h in (help_, quit_) if h is not None)
    full = sum(h.width for h in fkeys)
    grouped = sum(len(h.display) + 1 for h in fkeys) + (len("screens") + 1 if fkeys else 0)
    kept = list(ours)
    while True:
        used = fixed + sum(h.width for h in kept)
        if used + full <= width:
            return kept, fkeys, True
        if used + grouped <= width:
            return kept, fkeys, False
        droppable = [i for i, h in enumerate(kept) if h.key not in KEPT_KEYS]
        if not droppable:
            return kept, ([] if used + grouped > width else fkeys), False
        kept.pop(droppable[-1])


KEY_PART, WORDS_PART = "key-footer--key", "key-footer--description"
"""The footer's two styled parts: a key, and the words after it."""


@dataclass(frozen=True)
class Shown:
    """One key as the footer draws it: its cells on the screen (x, width)."""

    key: str
    description: str
    region: Region
    enabled: bool


class KeyFooter(Widget, can_focus=False):
    """The footer every screen has: its keys first, fitted to the width, Ctrl+Q shown.

    One widget drawing one line (a click on a key presses it), not a widget per key: ten keys
    were ten widgets with two styled parts each, a tenth of the console's first frame."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {KEY_PART, WORDS_PART}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        color: $footer-foreground;
        background: $footer-background;
        .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.shown: list[Shown] = []
        """The keys as last drawn, left to right (what a click lands on)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        width = self.size.width or self.app.size.width
        ours, help_, fkeys, quit_ = screen_hints(self.screen)
        kept, fkeys, full = fit(ours, help_, fkeys, quit_, width - 1)
        key_style = self.get_component_rich_style(KEY_PART)
        words_style = self.get_component_rich_style(WORDS_PART)
        line = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[Hint, str, int, int]] = []

        def add(h: Hint, words: bool = True) -> None:
            start = line.cell_len
            dim = Style(dim=True) if not h.enabled else Style()
            line.append(h.display, key_style + dim)
            said = h.description if words else ""
            if said:
                line.append(" " + said, words_style + dim)
            spans.append((h, said, start, line.cell_len - start))
            line.append(" ")

        for h in kept:
            add(h)
        if help_ is not None:
            add(help_)
        for h in fkeys:
            add(h, words=full)
        if fkeys and not full:
            line.append("screens ", words_style)
        if quit_ is not None:  # at the right edge
            tail = len(quit_.display) + (1 + len(quit_.description) if quit_.description else 0)
            line.truncate(max(width - tail, 0), pad=True)
            add(quit_)
        line.truncate(width)
        x, y = self.region.x, self.region.y
        self.shown = [
            Shown(h.key, said, Region(x + start, y, size, 1), h.enabled)
            for h, said, start, size in spans
            if start + size <= width
        ]
        return line

    def on_mouse_down(self, event: events.MouseDown) -> None:
        x = event.screen_x
        for shown in self.shown:
            if shown.region.x <= x < shown.region.right:
                if shown.enabled:
                    self.app.simulate_key(shown.key)
                else:
                    self.app.bell()
                return
