"""The console's start-up path: key hints in the first frame, routes from the warm router cache
before the playbooks are parsed, the cache built once and kept for the next process."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList
from textual.widgets._footer import FooterKey

import screens.app
from console.routing import cached_router, get_router, warm
from console.site import Site, load_config
from screens.app import FixmapApp
from screens.messages import CatalogReady, RouterReady


class FirstFrame(FixmapApp):
    """The console, noting what the footer holds when the first frame is up."""

    CSS_PATH = str(Path(screens.app.__file__).with_name("fixmap.tcss"))
    keys_at_first_frame: list[str] | None = None

    def on_ready(self) -> None:
        self.keys_at_first_frame = [k.description or k.key for k in self.screen.query(FooterKey)]
        super().on_ready()


async def test_the_footer_has_its_key_hints_in_the_first_frame():
    app = FirstFrame(load_config(None), history_worker=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.app.workers.wait_for_complete()
    assert app.keys_at_first_frame is not None
    # at 80 columns the F-keys to the other screens go without their words ('f2 f3 … screens')
    assert {"Help", "Quit", "f3", "f5"} <= set(app.keys_at_first_frame)


async def test_routes_come_from_the_warm_cache_before_the_playbooks_and_the_cold_one_is_kept(
    fixmap_home,
):
    site = load_config(None)
    assert cached_router(site) is None  # a fresh data dir: cold

    order: list[str] = []

    def hook(message) -> None:
        if isinstance(message, RouterReady | CatalogReady):
            order.append(type(message).__name__)

    app = FixmapApp(site, history_worker=False)
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    assert order == ["CatalogReady"]  # cold: built from the playbooks ...
    assert cached_router(site) is not None  # ... and kept for the next process

    order.clear()
    app = FixmapApp(load_config(None), history_worker=False)
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        routes = app.screen.query_one("#routes", OptionList)
        assert "Rollout readiness gate" in str(routes.get_option_at_index(0).prompt)
    assert order == ["RouterReady", "CatalogReady"]  # warm: routes first


def test_warm_builds_the_cache_that_routing_then_reads(fixmap_home):
    path = warm()
    assert path.is_file() and path.parent == fixmap_home / "cache"
    router = cached_router(Site())
    assert router is not None
    assert (
        router.route("customers charged twice when clients retry", 1)[0].id
        == get_router(Site()).route("customers charged twice when clients retry", 1)[0].id
    )
