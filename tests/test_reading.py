"""Reading the console over SSH: failure markers that read without colour, numbers by unit,
names cut with an ellipsis, panes that grow with the terminal, footers that fit and lead with
what matters."""

from __future__ import annotations

import itertools
import re
import shutil

import pytest
from rich.segment import Segment
from textual.color import Color
from textual.geometry import Region
from textual.theme import BUILTIN_THEMES
from textual.widgets import DataTable, Label

from console.demo.service import DemoService
from console.demo.site import write_site_config
from console.site import load_config
from screens.app import FixmapApp
from screens.theme import contrast
from tests.conftest import FIXMAP

TOKEN = "reading-admin-token"

# ---------------------------------------------------------------- a real terminal's colours

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def xterm_rgb(index: int) -> Color:
    """An xterm 256-colour index as RGB (the 16 system colours as xterm draws them)."""
    system = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205),
        (0, 205, 205), (229, 229, 229), (127, 127, 127), (255, 0, 0), (0, 255, 0),
        (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]  # fmt: skip
    if index < 16:
        return Color(*system[index])
    if index >= 232:
        grey = 8 + 10 * (index - 232)
        return Color(grey, grey, grey)
    index -= 16
    steps = [0, 95, 135, 175, 215, 255]
    return Color(steps[index // 36], steps[index // 6 % 6], steps[index % 6])


def cells(ansi_line: str) -> list[tuple[str, Color | None, Color | None, bool]]:
    """Each character of a `capture-pane -e` line with its foreground, background and reverse."""
    out = []
    fg = bg = None
    reverse = False
    pos = 0
    for m in SGR.finditer(ansi_line + "\x1b[m"):
        out += [(ch, fg, bg, reverse) for ch in ansi_line[pos : m.start()]]
        pos = m.end()
        codes = [int(c) if c else 0 for c in m.group(1).split(";")] or [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                fg = bg = None
                reverse = False
            elif c == 7:
                reverse = True
            elif c == 27:
                reverse = False
            elif c in (38, 48) and codes[i + 1] == 5:
                color = xterm_rgb(codes[i + 2])
                fg, bg = (color, bg) if c == 38 else (fg, color)
                i += 2
            elif c in (38, 48) and codes[i + 1] == 2:
                color = Color(*codes[i + 2 : i + 5])
                fg, bg = (color, bg) if c == 38 else (fg, color)
                i += 4
            elif c == 39:
                fg = None
            elif c == 49:
                bg = None
            elif 30 <= c <= 37 or 90 <= c <= 97:
                fg = xterm_rgb(c - 30 if c < 90 else c - 90 + 8)
            elif 40 <= c <= 47 or 100 <= c <= 107:
                bg = xterm_rgb(c - 40 if c < 100 else c - 100 + 8)
            i += 1
    return out


def marker_contrast(ansi: str, marker: str) -> float:
    """The contrast the marker's first character is drawn in (reverse video swapped back)."""
    default_fg, default_bg = Color(229, 229, 229), Color(0, 0, 0)
    for line in ansi.splitlines():
        row = cells(line)
        text = "".join(ch for ch, *_ in row)
        at = text.find(marker)
        if at < 0:
            continue
        _, fg, bg, reverse = row[at]
        fg, bg = fg or default_fg, bg or default_bg
        if reverse:
            fg, bg = bg, fg
        return contrast(fg, bg)
    raise AssertionError(f"{marker!r} is not on the screen:\n{SGR.sub('', ansi)}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_failure_markers_read_without_colour(tmp_path, fixmap_home):
    """NO_COLOR at 80x24: the probe's ✗ FAIL and the NO-GO badge stand well off their background
    (before: reverse video in a grey two steps from it, about 1.3:1)."""
    import os

    from tests.test_terminal import Tmux

    t = Tmux({**os.environ, "TERM": "xterm-256color", "FIXMAP_HOME": str(fixmap_home)})
    t.env["NO_COLOR"] = "1"
    try:
        t.start(FIXMAP, "demo", "--dir", str(tmp_path / "demo"), "--fault", "stale-index")
        t.wait("What do you see")
        t.keys("F2")
        t.wait("configured")
        t.keys("a")
        t.wait(r"index\s+✗ FAIL")
        ansi = t.run("capture-pane", "-p", "-e", "-t", "t")
        assert marker_contrast(ansi, "✗ FAIL") >= 5.0  # a badge: well off its background
        assert marker_contrast(ansi, "✓ pass") >= 3.0
        t.keys("F5")
        t.wait("NO-GO", timeout=60)
        ansi = t.run("capture-pane", "-p", "-e", "-t", "t")
        assert marker_contrast(ansi, "✗ NO-GO") >= 5.0
        t.keys("C-q")
    finally:
        t.kill()


# ---------------------------------------------------------------- every built-in theme


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv("FIXMAP_SECRET_DEMO_ADMIN_TOKEN", TOKEN)
    with DemoService(admin_token=TOKEN) as svc:
        yield svc, write_site_config(tmp_path, svc.url)


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def drawn_contrast(widget, marker: str) -> float:
    """The contrast of the marker as the widget draws it, after the app's line filters."""
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    for strip in strips:
        for seg in strip:
            if isinstance(seg, Segment) and marker in seg.text and seg.style is not None:
                s = seg.style
                fg = Color.from_rich_color(s.color)
                bg = Color.from_rich_color(s.bgcolor)
                return contrast(fg, bg)
    raise AssertionError(f"{marker!r} is not drawn")


async def test_failure_markers_read_in_every_builtin_theme(demo):
    svc, cfg = demo
    svc.set_fault("stale-index", True)
    app = FixmapApp(load_config(cfg), history_worker=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await pilot.press("a")
        await settle(pilot)
        low = {}
        for name in BUILTIN_THEMES:
            if name == "textual-ansi":
                continue  # the terminal's own palette: nothing to measure here
            app.theme = name
            await pilot.pause()
            table = app.screen.query_one(DataTable)
            table.refresh()
            await pilot.pause()
            ratio = drawn_contrast(table, "✗ FAIL")
            if ratio < 3.0:
                low[name] = round(ratio, 2)
        assert not low, f"✗ FAIL blurs into its background in {low}"
        await pilot.press("f5")
        await settle(pilot)
        verdict = app.screen.query_one("#gate-verdict", Label)
        assert "NO-GO" in str(verdict.render())
        for name in ("textual-dark", "textual-light", "nord", "solarized-light"):
            app.theme = name
            await pilot.pause()
            assert drawn_contrast(verdict, "NO-GO") >= 3.0, name


# ---------------------------------------------------------------- numbers on screen

NOISE = re.compile(r"\b\d+(?:\.\d+)?[eE][+-]?\d+\b|\b\d+\.\d{5,}")
"""Scientific notation or five decimals and more: what nobody reads at 3 a.m."""


def table_text(table: DataTable) -> list[str]:
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_numbers_on_screen_read_by_unit(demo):
    """Probes, gates and history show '99.9%', '32 ms', never '7e-04' or '0.0007424'."""
    svc, cfg = demo
    svc.set_fault("stale-index", True)
    app = FixmapApp(load_config(cfg), history_worker=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f2", "a")
        await settle(pilot)
        probes = table_text(app.screen.query_one(DataTable))
        await pilot.press("f5")
        await settle(pilot)
        gates = table_text(app.screen.query_one(DataTable))
        await pilot.press("f3")
        await settle(pilot)
        changed = table_text(app.screen.query_one(DataTable))
        shown = probes + gates + changed
        noisy = [line for line in shown if NOISE.search(line)]
        assert not noisy, noisy
        by_name = {line.split(" | ")[0]: line for line in probes}
        assert re.search(r"\| \d+ ms \|", by_name["latency"])
        assert re.search(r"\| \d+(\.\d+)?% \|", by_name["idempotency"])
        # a share's threshold reads as a percentage, as its value does
        assert any(re.search(r"\d%.*\| [≤≥<>=]+ \d+(\.\d+)?%", line) for line in gates), gates


# ---------------------------------------------------------------- footers


def footer_keys(screen) -> list:
    from screens.widgets import KeyFooter

    return list(screen.query_one(KeyFooter).shown)


def assert_footer_fits(screen, width: int) -> list[str]:
    keys = footer_keys(screen)
    assert keys, f"{type(screen).__name__} has no footer keys"
    for k in keys:
        assert k.region.width > 0 and k.region.right <= width, (type(screen).__name__, k.key)
    spans = sorted((k.region.x, k.region.right, k.key) for k in keys)
    for (_, right, a), (left, _, b) in itertools.pairwise(spans):
        assert right <= left, f"{a} and {b} overlap in {type(screen).__name__}'s footer"
    names = [k.key for k in keys]
    assert "ctrl+q" in names and "f1" in names, names
    return names


async def test_footers_lead_with_enter_show_quit_and_fit_80_columns(demo):
    from screens.walkthrough import WalkthroughScreen

    _, cfg = demo
    app = FixmapApp(load_config(cfg), history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        described = {}
        for key in ("f2", "f3", "f4", "f5", "f6"):
            await pilot.press(key)
            await settle(pilot)
            names = assert_footer_fits(app.screen, 80)
            assert names[0] == "enter", (type(app.screen).__name__, names)
            described[type(app.screen).__name__] = footer_keys(app.screen)[0].description
        assert described["ProbesScreen"] == "Run probe"
        assert described["ActionsScreen"] == "Run action"
        await pilot.press("f5", "c")
        await settle(pilot)
        assert "escape" in assert_footer_fits(app.screen, 80)  # the checklist: only the way back
        while len(app.screen_stack) > 1:
            app.pop_screen()
        await settle(pilot)
        assert assert_footer_fits(app.screen, 80)[0] == "enter"  # triage
        app.open_playbook("idempotency_dedupe")
        await settle(pilot)
        walk = app.screen
        assert isinstance(walk, WalkthroughScreen)
        kinds = [s.kind for s in walk.playbook.steps]
        for kind, words in (("probe", "Run probe"), ("action", "Run action")):
            walk.query_one("#steps").highlighted = kinds.index(kind)
            await settle(pilot)
            first = footer_keys(walk)[0]
            assert (first.key, first.description) == ("enter", words)
            assert_footer_fits(walk, 80)


async def test_a_click_on_a_footer_key_presses_it():
    from screens.dialogs import HelpScreen
    from screens.widgets import KeyFooter

    app = FixmapApp(load_config(None), history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        shown = {k.key: k for k in footer.shown}
        assert shown["f1"].description == "Help" and shown["f2"].description == ""  # 80 cols
        await pilot.click(KeyFooter, offset=(shown["f1"].region.x - footer.region.x, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        # the gap between two keys is no key
        gap = shown["f1"].region.right - footer.region.x
        await pilot.click(KeyFooter, offset=(gap, 0))
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


async def test_f1_lists_every_key_of_the_screen(demo):
    from screens.dialogs import HelpScreen

    _, cfg = demo
    app = FixmapApp(load_config(cfg), history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        gates = app.screen
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        from textual.widgets import Markdown

        text = app.screen.query_one(Markdown).source
        for binding in [*type(gates).BINDINGS, *type(app).BINDINGS]:
            assert f"| {binding.description} |" in text, binding.description
        assert "`^q` | Quit" in text and "`^p` | Commands" in text


# ---------------------------------------------------------------- ellipsis and layout


def drawn_lines(widget) -> list[str]:
    strips = widget.render_lines(Region(0, 0, *widget.outer_size))
    return ["".join(seg.text for seg in strip) for strip in strips]


async def test_cut_names_and_reasons_end_in_an_ellipsis(demo):
    from screens.walkthrough import WalkthroughScreen

    svc, cfg = demo
    svc.set_fault("stale-index", True)
    app = FixmapApp(load_config(cfg), history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2", "a")
        await settle(pilot)
        line = next(x for x in drawn_lines(app.screen.query_one(DataTable)) if "✗ FAIL" in x)
        assert line.rstrip().endswith("…"), line  # the index's long reason, cut
        await pilot.press("f5")
        await settle(pilot)
        lines = drawn_lines(app.screen.query_one(DataTable))
        index = next(x for x in lines if x.lstrip().startswith("index"))
        assert index.rstrip().endswith("…"), index
        assert any(x.lstrip().startswith("version_lock ") for x in lines), lines  # whole name
        while len(app.screen_stack) > 1:
            app.pop_screen()
        app.open_playbook("vector_index_build_and_swap")
        await settle(pilot)
        assert isinstance(app.screen, WalkthroughScreen)
        steps = drawn_lines(app.screen.query_one("#steps"))
        long = [x for x in steps if "…" in x]
        assert long, steps  # at 80 columns the long step titles are cut, and say so
        assert all(x.rstrip(" │▏").endswith("…") for x in long), long


async def test_panes_grow_with_the_terminal(demo):
    """At 200x50 the steps pane and the chart take the room (at 80x24: 32 columns, 11 rows)."""
    from console.history import seed_demo_history

    _, cfg = demo
    site = load_config(cfg)
    seed_demo_history(site.resolve(site.config.history.db), "demo")
    sizes = {}
    for size in ((80, 24), (200, 50)):
        app = FixmapApp(load_config(cfg), history_worker=False)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            app.open_playbook("rollout_readiness_gate")
            await settle(pilot)
            steps = app.screen.query_one("#steps")
            title_cut = any("…" in x for x in drawn_lines(steps))
            walk = (steps.outer_size.width, title_cut)
            while len(app.screen_stack) > 1:
                app.pop_screen()
            await pilot.press("f3")
            await settle(pilot)
            chart = app.screen.query_one("#history-chart")
            sizes[size] = (*walk, chart.size.height, chart.display)
    (w80, _, h80, shown80), (w200, cut200, h200, shown200) = sizes[(80, 24)], sizes[(200, 50)]
    assert shown80 and shown200, sizes
    assert w80 == 32 and h80 >= 10
    assert w200 >= 55 and not cut200, sizes  # every step title of the playbook whole
    assert h200 >= 2 * h80, sizes


def test_chart_series_have_their_own_glyphs_and_events_their_own_marks():
    from screens.widgets.chart import SERIES_GLYPHS, ChartData, render_chart

    t = [1_000_000_000 + 60 * i for i in range(120)]
    data = ChartData(
        times=t,
        series={
            "p50": [50 + i % 7 for i in range(120)],
            "p95": [120 + i % 5 for i in range(120)],
            "p99": [200 + i % 9 for i in range(120)],
        },
        events=[
            (t[30], "deploy"),
            (t[30] + 20, "deploy"),
            (t[31], "incident"),
            (t[80], "rollback"),
        ],
        unit="ms",
    )
    lines = render_chart(data, 78, 14).plain.splitlines()
    assert len(lines) == 14
    legend, *plot, axis, _times, events = lines
    for glyph, name in zip(SERIES_GLYPHS, ("p50", "p95", "p99"), strict=False):
        assert f"{glyph} {name}" in legend
    body = "\n".join(plot)
    assert "•" in body and "×" in body  # p95 and p99 drawn in their own marks
    assert "1" in axis and "2" in axis and "▲" not in axis  # one numbered mark per moment
    assert "deploy ×2, incident" in events and "2 rollback" in events
    assert "deployincident" not in "".join(lines)


async def test_the_timeline_wraps_long_lines_without_losing_characters(demo, fixmap_home):
    from console import incident

    _, cfg = demo
    site = load_config(cfg)
    incident.open_incident("wrap test", "S2", None, site=site)
    words = [c * 4 for c in "ABCDEFGHIJKLMNOPQRSTU"]
    incident.add_note(" ".join(words))
    app = FixmapApp(site, history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        drawn = " ".join(drawn_lines(app.screen.query_one("#timeline")))
        missing = [w for w in words if w not in drawn.split()]
        assert not missing, drawn


def test_every_tone_the_screens_name_exists():
    """A tone the theme does not know would draw a failure as plain text."""
    from pathlib import Path

    from screens.theme import STATUS, STEP_TONE, TONE

    root = Path(__file__).resolve().parent.parent / "screens"
    named = {
        m for p in root.rglob("*.py") for m in re.findall(r'style\("([\w-]+)"\)', p.read_text())
    }
    named |= {tone for _, tone in STATUS.values()} | set(STEP_TONE.values())
    assert named and named <= set(TONE), named - set(TONE)
    assert "reverse" in TONE["bad"] and "bold" in TONE["bad-text"]


async def test_tables_follow_the_terminal_when_it_is_resized(demo):
    svc, cfg = demo
    svc.set_fault("stale-index", True)
    app = FixmapApp(load_config(cfg), history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2", "a")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        narrow = table.columns[next(k for k in table.columns if k.value == "reason")].width
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        wide = table.columns[next(k for k in table.columns if k.value == "reason")].width
        assert wide >= narrow + 100, (narrow, wide)
        assert "FAIL" in str(table.get_cell("index", "status"))  # the verdicts stay
        line = next(x for x in drawn_lines(table) if "✗ FAIL" in x)
        assert "chunks 37 vs 39" in line  # the whole reason, now that there is room
        await pilot.press("f5")
        await settle(pilot)
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count and "FAIL" in str(table.get_cell("index", "status"))
        assert all(k.region.right <= 100 for k in footer_keys(app.screen))
