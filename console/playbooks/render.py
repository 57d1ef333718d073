"""Plain-text renderings of engine objects for the CLI (the console renders its own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.playbooks.schema import Playbook, Step
from console.site import names


def step_does(step: Step) -> str:
    """One line: what running this step will do."""
    if step.kind == "probe":
        return f"runs probe '{step.probe}': {names.PROBES.get(step.probe or '', 'a site-defined probe')}"
    if step.kind == "query":
        if step.sql:
            return "runs SQL over metric history"
        params = ", ".join(f"{k}={v}" for k, v in step.params.items())
        what = names.QUERIES.get(step.query or "", "a named history query")
        return f"runs query '{step.query}'" + (f" ({params})" if params else "") + f": {what}"
    if step.kind == "action":
        params = ", ".join(f"{k}={v}" for k, v in step.params.items())
        what = names.ACTIONS.get(step.action or "", "a site-defined action")
        return f"runs action '{step.action}'" + (f" ({params})" if params else "") + f": {what}"
    if step.kind == "route":
        return f"go to '{step.to}'" + (f" {step.when}" if step.when else "")
    if step.kind == "check":
        return "you confirm it by hand"
    if step.kind == "gate":
        return f"runs the {step.gate_set} gate set: go / no-go on its targets"
    return "read"


def playbook_text(pb: Playbook) -> str:
    out = [f"{pb.title}  [{pb.id}]", pb.summary, ""]
    if pb.gates:
        out.append("Gates:")
        for g in pb.gates:
            fail = f", hard stop {g.fail}" if g.fail else ""
            out.append(f"  - {g.label}: pass {g.pass_}{fail}")
        out.append("")
    out.append("Steps:")
    for i, s in enumerate(pb.steps, 1):
        out.append(f"  {i:>2}. [{s.kind}] {s.title}")
        if s.kind != "read":
            out.append(f"      {step_does(s)}")
        if s.gate:
            g = pb.gate(s.gate)
            out.append(f"      judged by: {g.label} {g.pass_}")
        for line in s.body.strip().splitlines():
            out.append(f"      {line}" if line.strip() else "")
    if pb.related:
        out += ["", "Related: " + ", ".join(pb.related)]
    if pb.symptoms:
        out += ["Answers: " + "; ".join(pb.symptoms)]
    return "\n".join(out)
