"""The footer of key hints: what matters on this screen first, fitted to the terminal's width.

Textual's Footer lists the focused widget's keys before the screen's (a table's hidden Enter
hides the screen's "Enter run probe"), gives each F-key its own word (at 80 columns the row is
cut: `… f5 Gates  f6▏^p palette`) and leaves Ctrl+Q out. This one shows the screen's keys in the
order the screen declares them (Enter first), then F1 Help, the F-keys (as `f2 f3 f4 f5 f6
screens` when their words do not fit), and `^q Quit` last; keys of the screen that still do
not fit are left to F1, from the least important (the last declared) on.

It also has its hints in its first compose: Textual's Footer composes nothing until the screen
announces its bindings, a few frames after the screen is up.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

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


class KeyFooter(Footer):
    """The footer every screen has: its keys first, fitted to the width, Ctrl+Q shown."""

    DEFAULT_CSS = """
    KeyFooter FooterKey.-screen-key { margin-right: 1; }
    KeyFooter FooterLabel { margin: 0 1 0 0; }
    KeyFooter FooterKey.-quit { dock: right; margin: 0 0 0 0; }
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("compact", True)
        kwargs.setdefault("show_command_palette", False)  # ^p is in F1 and the palette itself
        super().__init__(*args, **kwargs)
        self.set_reactive(Footer._bindings_ready, True)
        self._composed_width = 0
        self._composed: tuple | None = None

    def _plan(self, width: int) -> tuple[list[Hint], Hint | None, list[Hint], bool, Hint | None]:
        """The hints this width shows: the screen's kept, F1, the F-keys (with their words or
        not) and Ctrl+Q."""
        ours, help_, fkeys, quit_ = screen_hints(self.screen)
        kept, fkeys, full = fit(ours, help_, fkeys, quit_, width - 1)
        return kept, help_, fkeys, full, quit_

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        self._composed_width = width
        kept, help_, fkeys, full, quit_ = self._composed = self._plan(width)

        # each key's compact class from the start: its compact watcher then has nothing to
        # change, and the first frame does not style every key twice
        compact = " -compact" if self.compact else ""

        def key(h: Hint, words: bool = True, classes: str = "") -> FooterKey:
            return FooterKey(
                h.key,
                h.display,
                h.description if words else "",
                h.action,
                disabled=not h.enabled,
                tooltip=h.description,
                classes=classes + compact,
            ).data_bind(compact=Footer.compact)

        for h in kept:
            yield key(h)
        if help_ is not None:
            yield key(help_)
        for h in fkeys:
            yield key(h, words=full, classes="" if full else "-screen-key")
        if fkeys and not full:
            yield FooterLabel("screens")
        if quit_ is not None:
            yield key(quit_, classes="-quit")

    def bindings_changed(self, screen) -> None:
        """Rebuilt only when what it shows changes: the screen announces its bindings on every
        focus change and more (three times in the console's first 0.2 s), and rebuilding ten
        keys each time held up the first keystrokes."""
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        width = self.size.width or self.app.size.width
        if width != self._composed_width or self._plan(width) != self._composed:
            await self.recompose()

    def on_resize(self) -> None:
        if self.size.width != self._composed_width:
            self.refresh(recompose=True)
