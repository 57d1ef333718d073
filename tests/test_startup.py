"""The console's start-up path: key hints and routes in the first frame (their titles from the
warm cache; the router read right after it, before the playbooks are parsed), the cache built
once and kept for the next process."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from textual.widgets import Label, OptionList

import screens.app
from console.routing import cached_router, get_router, warm
from console.site import Site, load_config
from screens.app import FixmapApp
from screens.widgets import KeyFooter


class FirstFrame(FixmapApp):
    """The console, noting what the footer and the route list hold when the first frame is up."""

    CSS_PATH = str(Path(screens.app.__file__).with_name("fixmap.tcss"))
    keys_at_first_frame: list[str] | None = None
    routes_at_first_frame: list[str] | None = None

    def on_ready(self) -> None:
        footer = self.screen.query_one(KeyFooter)
        self.keys_at_first_frame = [k.description or k.key for k in footer.shown]
        routes = self.screen.query_one("#routes", OptionList)
        self.routes_at_first_frame = [str(o.prompt) for o in routes.options]
        super().on_ready()


async def test_the_footer_has_its_key_hints_in_the_first_frame():
    app = FirstFrame(load_config(None), history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.app.workers.wait_for_complete()
    assert app.keys_at_first_frame is not None
    # at 80 columns the F-keys to the other screens go without their words ('f2 f3 … screens')
    assert {"Help", "Quit", "f3", "f5"} <= set(app.keys_at_first_frame)


async def test_routes_are_in_the_first_frame_from_the_warm_cache_and_the_cold_one_is_kept(
    fixmap_home,
):
    cold(fixmap_home)
    site = load_config(None)
    assert cached_router(site) is None  # a fresh data dir: cold

    app = FirstFrame(site, history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        # cold: the first frame lists the quick routes by id; the router is built after it ...
        assert (
            app.routes_at_first_frame and "rollout_readiness_gate" in app.routes_at_first_frame[0]
        )
        routes = app.screen.query_one("#routes", OptionList)
        assert "Rollout readiness gate" in str(routes.get_option_at_index(0).prompt)
    assert cached_router(site) is not None  # ... and kept for the next process

    app = HeldPlaybooks(load_config(None), history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        # warm: the first frame has the titles, and typing ranks before the playbooks are parsed
        assert (
            app.routes_at_first_frame and "Rollout readiness gate" in app.routes_at_first_frame[0]
        )
        await pilot.press(*"customers charged twice")
        title = app.screen.query_one("#results-title", Label)
        deadline = time.monotonic() + 30  # the router is read right after the first frame
        while not str(title.render()).startswith("Best routes for"):
            assert time.monotonic() < deadline, f"never ranked: {title.render()}"
            await pilot.pause(0.02)
        assert app.catalog is None
        ranked = app.screen.query_one("#routes", OptionList)
        assert "idempotency" in str(ranked.get_option_at_index(0).prompt).lower()
        app.release.set()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert app.catalog is not None
        ranked = app.screen.query_one("#routes", OptionList)
        assert "idempotency" in str(ranked.get_option_at_index(0).prompt).lower()


class HeldPlaybooks(FirstFrame):
    """The console with its playbooks held back until the test releases them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()

    def _load_catalog(self, *args) -> None:
        self.release.wait(10)
        super()._load_catalog(*args)


def cold(home: Path) -> None:
    """A data dir as fresh as after install without `make`: no router cache."""
    for f in (home / "cache").glob("router-*"):
        f.unlink()


def test_warm_builds_the_cache_that_routing_then_reads(fixmap_home):
    cold(fixmap_home)
    assert cached_router(Site()) is None
    path = warm()
    assert path.is_file() and path.parent == fixmap_home / "cache"
    router = cached_router(Site())
    assert router is not None
    assert (
        router.route("customers charged twice when clients retry", 1)[0].id
        == get_router(Site()).route("customers charged twice when clients retry", 1)[0].id
    )


async def test_the_first_evidence_asks_the_history_in_its_worker_process(tmp_path, fixmap_home):
    """The evidence sweep starts before the playbooks are parsed: its what-changed must already
    go to the history's worker process, or DuckDB lands in the console's own memory."""
    from console.history import seed_demo_history, worker_pid

    db = tmp_path / "history.duckdb"
    seed_demo_history(db, "rag")
    cfg = tmp_path / "fixmap.toml"
    cfg.write_text(
        f'[site]\nname = "t"\n[services.rag]\nbase_url = "http://127.0.0.1:9"\n'
        f'[history]\ndb = "{db}"\n',
        encoding="utf-8",
    )
    app = HeldPlaybooks(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        deadline = time.monotonic() + 60
        while screen.evidence is None:
            assert time.monotonic() < deadline, "no evidence in time"
            await pilot.pause(0.05)
        assert app.catalog is None  # the playbooks are still held back ...
        assert "what changed" in "; ".join(screen.evidence.checked)
        assert worker_pid() is not None  # ... and the history was asked in the worker
        app.release.set()
        await pilot.app.workers.wait_for_complete()


class HeldRouter(FirstFrame):
    """The console with its router held back (a slow disk) until the test releases it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.release = threading.Event()

    def _load_router(self):
        self.release.wait(10)
        return super()._load_router()


async def test_text_typed_before_the_router_is_read_is_ranked_when_it_is(fixmap_home):
    app = HeldRouter(load_config(None), history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        # the first frame lists the routes by title from the warm cache, with no router yet
        assert app.router is None
        assert "Rollout readiness gate" in app.routes_at_first_frame[0]
        await pilot.press(*"customers charged twice")
        await pilot.pause()
        title = app.screen.query_one("#results-title", Label)
        assert str(title.render()) == "Loading routes…"
        app.release.set()
        deadline = time.monotonic() + 30
        while not str(title.render()).startswith("Best routes for “customers charged twice”"):
            assert time.monotonic() < deadline, f"never ranked: {title.render()}"
            await pilot.pause(0.02)
        ranked = app.screen.query_one("#routes", OptionList)
        assert "idempotency" in str(ranked.get_option_at_index(0).prompt).lower()
        await pilot.app.workers.wait_for_complete()


def test_a_lost_titles_file_costs_only_the_titles(fixmap_home):
    """The first frame then lists the routes by id; the router (and routing) is unharmed."""
    from console.routing import cached_titles

    site = Site()
    titles = cached_titles(site)
    assert titles and titles["rollout_readiness_gate"].startswith("Rollout readiness gate")
    (titles_file,) = (fixmap_home / "cache").glob("router-*.titles.json")
    titles_file.unlink()
    titles_file.write_text("{not json", encoding="utf-8")
    assert cached_titles(site) is None
    router = cached_router(site)
    assert router is not None and router.route("customers charged twice", 1)[0].id
