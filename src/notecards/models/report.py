"""`notecards sim NOTE.md[:LINE]`: a note's models as understood, their draws summarised, checks run.

The report is for a user asking "did notecards read my model the way I meant it?": every
statement with its arguments named in the notes' parameterisation (`var = sigma^2`, not numpy's
scale), the values used (defaults marked, with how to set them), summary statistics of every
drawn variable next to the exact marginal where one is known, and each check with simulated,
expected and z. Figures are written to the output folder under the same content-hash names the
export uses.

A model with data is fitted as in the export (same seed, options and figures): the report then
gives, for every parameter, its posterior mean, sd, 5/50/95% quantiles, R-hat and bulk/tail ESS,
and the sampler of every node (`"fit"` in the JSON, a table in the text), in place of the
summaries of forward draws.

A card's seed comes from its identity as in the export: the guid of its ID line when it has
one, else its position in the note. (A card without ID that export matched to an earlier guid
after an edit may therefore draw different numbers here; its ID line settles that.)
"""

from __future__ import annotations

import json
from pathlib import Path

from notecards.identity import guid_for_id, positional_guid
from notecards.parse import parse_file
from notecards.sim.closed_form import closed_form
from notecards.sim.compare import summary_text
from notecards.sim.describe import describe_node, format_value, summarise
from notecards.sim.expr import format_expr
from notecards.models.find import find_model
from notecards.sim.model import ModelSpec, SimResult
from notecards.models.run import (CodeLimits, SimJob, cache_key, draw_fit, draw_result, environment,
                                  fit_job, render_job, simulate_job)
from notecards.types import Diagnostic
from notecards.vault import read_source


def _exact_labels(spec: ModelSpec) -> dict[str, str]:
    return {name: m.label for name, m in closed_form(spec).marginals.items()}


def report_json(spec: ModelSpec, result: SimResult | None) -> dict:
    """The model as understood, its values, summaries of every drawn variable, checks, comparisons."""
    model = [{"name": n.name, "kind": n.kind, "line": n.line, "statement": describe_node(n),
              "written": n.source, "dist": n.dist, "args": {k: format_expr(v) for k, v in n.args.items()},
              "plate": n.plate, "index": n.index}
             for n in spec.nodes.values()]
    values = {n.name: _jsonable(n.value) for n in spec.nodes.values()
              if n.kind in ("const", "data") and n.value is not None}
    out = {"path": spec.path, "line": spec.line, "origin": spec.origin, "n": spec.n, "seed": spec.seed,
           "model": model, "values": values, "defaults": dict(spec.defaults),
           "alternatives": [[describe_node(n) for n in alt] for alt in spec.alternatives],
           "summaries": {}, "checks": [], "comparisons": []}
    if result is None:
        return out
    exact = _exact_labels(spec)
    for name, summary in summarise(result).items():
        out["summaries"][name] = {**summary, "exact": exact.get(name)}
    out["checks"] = [{"line": c.line, "text": c.text, "simulated": c.simulated, "expected": c.expected,
                      "z": c.z, "passed": c.passed} for c in result.checks]
    out["comparisons"] = [{"name": c.name, "line": c.line, "first": c.first, "second": c.second,
                           "p_value": c.p_value, "agree": c.agree} for c in result.comparisons]
    return out


def fit_report_json(spec: ModelSpec, result) -> dict:
    """The model as understood and its posterior: a `FitResult.to_dict()` under "fit"."""
    out = report_json(spec, None)
    out["fit"] = result.to_dict()
    return out


def fit_report_text(spec: ModelSpec, result) -> str:
    data = fit_report_json(spec, result)
    fit = data["fit"]
    model = report_text(spec, None).split("\n")
    origin = "sim block" if spec.origin == "sim" else "card's formulas"
    seed = f"seed {spec.seed}" if spec.seed is not None else "seed from the model"
    lines = [f"Model from the {origin} at {spec.path}:{spec.line}, fitted to its data ({seed})", *model[1:]]
    how = ("empirical Bayes" if fit["method"] == "empirical bayes" else
           f"{fit['chains']} chains × {fit['draws']} draws after {fit['warmup']} warmup")
    lines.append(f"Posterior ({how})")
    if fit["params"]:
        lines.append(f"  {'':<24}" + "".join(f"{h:>10}" for h in
                                              ("mean", "sd", "5%", "50%", "95%", "R-hat", "ESS", "tail ESS")))
    for name, p in fit["params"].items():
        cells = "".join(_cell(p[k], ".4g") for k in ("mean", "sd", "q5", "q50", "q95"))
        cells += _cell(p["rhat"], ".3f") + _cell(p["ess"], ".0f") + _cell(p["ess_tail"], ".0f")
        shown = f"{name} {p['label']}" if "label" in p else name
        lines.append(f"  {shown:<24}{cells}")
    if fit["samplers"]:
        lines.append("Samplers")
        lines += [f"  {node:<14}{label}" for node, label in fit["samplers"].items()]
    return "\n".join(lines)


def _cell(value: float | None, spec: str) -> str:
    return f"{'–' if value is None else format(value, spec):>10}"


def _jsonable(value):
    return value.tolist() if hasattr(value, "tolist") else value


def report_text(spec: ModelSpec, result: SimResult | None) -> str:
    data = report_json(spec, result)
    origin = "sim block" if spec.origin == "sim" else "card's formulas"
    seed = f"seed {spec.seed}" if spec.seed is not None else "seed from the model"
    lines = [f"Model from the {origin} at {spec.path}:{spec.line} (n = {spec.n}, {seed})"]
    lines += [f"  {m['statement']:<48} line {m['line']}" for m in data["model"] if m["kind"] not in ("const", "data")]
    for alt in data["alternatives"]:
        lines.append("  second definition: " + "; ".join(alt))
    if data["values"]:
        lines.append("Values")
        for name, value in data["values"].items():
            mark = "   (default: set it in a ```sim block)" if name in spec.defaults else ""
            lines.append(f"  {name} = {format_value(value)}{mark}")
    if data["summaries"]:
        lines.append(f"Draws {'':<10}{'mean':>10}{'sd':>10}{'5%':>10}{'50%':>10}{'95%':>10}   exact")
        for name, s in data["summaries"].items():
            cells = "".join(f"{s.get(k, float('nan')):>10.4g}" for k in ("mean", "sd", "q05", "q50", "q95"))
            lines.append(f"  {name:<14}{cells}   {s['exact'] or ''}")
    if data["checks"]:
        lines.append("Checks")
        for c in data["checks"]:
            mark = "passed" if c["passed"] else "FAILED"
            lines.append(f"  {mark}: {c['text']}  simulated {c['simulated']:.4g}, expected {c['expected']:.4g}, "
                         f"z = {c['z']:+.2f}  (line {c['line']})")
    for c in data["comparisons"]:
        verdict = "agree" if c["agree"] else "DISAGREE"
        lines.append(f"Two definitions of {c['name']} {verdict} (p = {c['p_value']:.3g}, line {c['line']}): "
                     f"first {summary_text(c['first'])}; second {summary_text(c['second'])}")
    return "\n".join(lines)


def run_sim_command(note: Path, line: int | None, out_dir: Path, as_json: bool, settings) -> tuple[str, int]:
    """Parse a note, pick the card at LINE (every card with a model when LINE is None), simulate,
    write figures to out_dir. Returns (what to print, exit code: 0 ok, 1 errors or failed checks,
    2 when LINE holds no card)."""
    diagnostics: list[Diagnostic] = []
    source = read_source(note.parent, note.name, diagnostics)
    if source is None:
        return "\n".join(d.format() for d in diagnostics), 1
    parsed = parse_file(source, settings)
    diagnostics += parsed.diagnostics
    blocks = [b for b in parsed.blocks if line is None or b.line <= line <= b.end_line]
    if line is not None and not blocks:
        return f"{source.path}:{line}: error: no card at this line", 2
    env = environment()
    cards = []
    for block in blocks:
        model, found = find_model(block, source.text)
        diagnostics += found
        if model is None:
            if line is not None:
                cards.append({"line": block.line, "model": None})
            continue
        key = guid_for_id(block.anki_id) if block.anki_id else positional_guid(
            settings.vault_name, source.stem, block.ordinal)
        job = SimJob(key, block.path, model.line, model.spec, model.code, fit=model.fit)
        report, rendered = _run_card(job, cache_key(job, env, CodeLimits.allowed_by(settings)),
                                     CodeLimits.allowed_by(settings), as_json)
        diagnostics += rendered.diagnostics
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for fig in rendered.figures:
            (out_dir / fig.name).write_bytes(fig.data)
            paths.append(str(out_dir / fig.name))
        cards.append({"line": block.line, "model": report, "figures": paths,
                      "checks_failed": rendered.checks_failed})
    failed = any(c.get("checks_failed") for c in cards) or any(d.severity == "error" for d in diagnostics)
    status = 1 if failed else 0
    if as_json:
        return json.dumps({"note": source.path, "cards": cards,
                           "diagnostics": [d.to_dict() for d in diagnostics]}, indent=2, ensure_ascii=False), status
    return _text_output(source.path, cards, diagnostics), status


def _run_card(job: SimJob, key: str, code: CodeLimits | None, as_json: bool):
    """(the card's report, its figures) drawn as the export draws them, so the names in the
    output folder are the names in the package; a python sim block has no report."""
    if job.spec is not None and job.fit is not None:
        result = fit_job(job)
        report = fit_report_json(job.spec, result) if as_json else fit_report_text(job.spec, result)
        return report, draw_fit(job.spec, result, key)
    if job.spec is not None:
        result, diagnostics = simulate_job(job)
        report = report_json(job.spec, result) if as_json else report_text(job.spec, result)
        return report, draw_result(result, diagnostics, key)
    return None, render_job(job, key, code)


def _text_output(path: str, cards: list[dict], diagnostics: list[Diagnostic]) -> str:
    parts = [d.format() for d in diagnostics]
    if not cards:
        parts.append(f"{path}: no card with a model (a ```sim block or `x \\sim Dist(...)` display math)")
    for card in cards:
        if card["model"] is None:
            parts.append(f"{path}:{card['line']}: this card has no model")
            continue
        if card["model"]:
            parts.append(card["model"])
        parts += [f"figure: {p}" for p in card["figures"]]
    return "\n\n".join(parts)
