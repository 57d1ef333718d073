"""Every route works end to end in the console: one live demo, one console, the six faults in
turn. For each: type the engineer's phrase on triage (after a fresh probe sweep), the route
ranks first, Enter opens it, Enter reads its first step, Enter runs the confirming probe (red),
`n` jumps to the mitigation the gate names, Enter + the confirm dialog run it, `n` jumps back
to the probe, Enter runs it (green), and the route's recovery gate step ticks on live data.
"""

from __future__ import annotations

import time

from textual.widgets import Input, Label, OptionList, Static

from console.site import load_config
from screens.app import FixmapApp
from screens.dialogs import ConfirmActionDialog
from screens.triage import TriageScreen
from screens.walkthrough import WalkthroughScreen
from tests.routes_live import ROUTES, live_demo

# rollbacks apart, so each one is a change of its own (its idempotency key moves on)
ORDER = ["stale-index", "latency", "rate-limit", "duplicates", "cold-cache", "model-drift"]


async def until(pilot, condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        await pilot.pause(0.05)


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[("space" if c == " " else c) for c in text])


async def settled(pilot, walk: WalkthroughScreen, step: str, status: str) -> None:
    """Wait until the step's run is over, then check it earned `status`."""
    key = (walk.playbook.id, step)
    await until(pilot, lambda: key not in pilot.app.running_steps, f"{step} finished")
    await until(
        pilot,
        lambda: walk.progress.status(step) == status,
        f"{step} {status}: {walk.progress.results.get(step)}",
        timeout=10,
    )


def next_line(walk: WalkthroughScreen) -> str:
    return str(walk.query_one("#walk-next", Label).content)


def current(walk: WalkthroughScreen) -> str:
    return walk.query_one("#steps", OptionList).highlighted_option.id


async def test_six_faults_six_routes_found_mitigated_and_verified_in_the_console(tmp_path):
    by_fault = {r.fault: r for r in ROUTES}
    with live_demo(tmp_path, [], sampler=False) as (svc, config):
        app = FixmapApp(load_config(config))
        async with app.run_test(size=(80, 24)) as pilot:
            triage = app.screen
            await until(pilot, lambda: triage.evidence is not None and app.router, "triage")
            for fault in ORDER:
                route = by_fault[fault]
                svc.set_fault(fault, True)
                assert isinstance(app.screen, TriageScreen)
                first = triage.evidence
                await pilot.press("escape", "ctrl+r")  # clear, probe again
                await until(pilot, lambda first=first: triage.evidence is not first, "sweep")
                await type_text(pilot, route.phrase)
                await pilot.pause()
                routes = triage.query_one("#routes", OptionList)
                evidence = str(triage.query_one("#evidence", Static).content)
                assert routes.get_option_at_index(0).id == route.playbook, (fault, evidence)

                await pilot.press("enter")  # open the route
                await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), "route")
                walk = app.screen
                ids = [s.id for s in walk.playbook.steps]
                assert ids.index(route.probe) == 1  # a read, then the confirming probe
                await pilot.press("enter")  # the read is done: on to the probe
                assert current(walk) == route.probe
                await pilot.press("enter")  # run it: red
                await settled(pilot, walk, route.probe, "failed")
                mitigation = walk.playbook.step(route.mitigation)
                index = ids.index(route.mitigation) + 1
                assert next_line(walk).startswith(f"next: step {index} — {mitigation.title} (n)")

                await pilot.press("n")  # jump to the mitigation
                assert current(walk) == route.mitigation
                assert "(Enter)" in next_line(walk)
                await pilot.press("enter")
                await until(pilot, lambda: isinstance(app.screen, ConfirmActionDialog), "dialog")
                dialog = app.screen
                if route.target:
                    assert dialog.plan.target == route.target
                    dialog.query_one("#confirm-target", Input).focus()
                    await type_text(pilot, route.target)
                    await pilot.press("enter")
                else:
                    await pilot.press("y")
                await settled(pilot, walk, route.mitigation, "done")
                assert app.screen is walk

                await pilot.press("n")  # back to the probe it was for
                assert current(walk) == route.probe
                await pilot.press("enter")
                await settled(pilot, walk, route.probe, "done")

                gate = next(
                    s.id
                    for s in walk.playbook.steps[index:]
                    if s.kind == "gate" and s.gate_set == "recovery"
                )
                walk.query_one("#steps", OptionList).highlighted = ids.index(gate)
                await pilot.pause()
                deadline = time.monotonic() + 90
                while walk.progress.status(gate) != "done":  # until GO on live data
                    assert time.monotonic() < deadline, (fault, walk.progress.results.get(gate))
                    await pilot.press("enter")
                    await pilot.pause(0.5)
                    await until(
                        pilot,
                        lambda g=gate, p=route.playbook: (p, g) not in app.running_steps,
                        "gate",
                    )
                await pilot.press("escape")
                await until(pilot, lambda: isinstance(app.screen, TriageScreen), "triage again")
                svc.set_fault(fault, False)  # rate-limit: the upstream calms down too
