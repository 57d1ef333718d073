"""Every route works end to end, headless: for each demo fault, the engineer's phrase ranks
its route first, the route's confirming probe step fails, its mitigation step (`fixmap step`,
the console's code) makes that probe step pass, and `fixmap gate recovery` goes GO on fresh
live data. Real processes against a live demo with users and a sampler.
"""

from __future__ import annotations

import pytest

from tests.routes_live import ROUTES, Route, fixmap, live_demo, recovery_go


@pytest.mark.parametrize("route", ROUTES, ids=[r.fault for r in ROUTES])
def test_a_fault_is_found_mitigated_and_verified_through_its_route(route: Route, tmp_path):
    with live_demo(tmp_path, [route.fault]) as (_svc, config):
        code, ranked, err = fixmap(config, "route", route.phrase, "--top", "3")
        assert code == 0, err
        assert ranked["results"][0]["id"] == route.playbook, ranked["results"]

        code, red, err = fixmap(config, "step", route.playbook, route.probe)
        assert (code, red["status"], red["mark"]) == (1, "fail", "failed"), err
        assert red["next"]["step"] == route.mitigation  # the gate's on_fail, offered next

        confirm = ["--confirm", route.target] if route.target else ["--yes"]
        code, done, err = fixmap(config, "step", route.playbook, route.mitigation, *confirm)
        assert (code, done["status"]) == (0, "pass"), err
        assert done["next"]["step"] == route.probe  # re-check what it was for

        code, green, err = fixmap(config, "step", route.playbook, route.probe)
        assert (code, green["status"], green["mark"]) == (0, "pass", "done"), err

        recovery_go(config)
        code, walk, _err = fixmap(config, "walk", route.playbook)
        marks = {s["id"]: s["status"] for s in walk["steps"]}
        assert marks[route.probe] == marks[route.mitigation] == "done"
