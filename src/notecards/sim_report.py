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

The command is a view of the export: the note goes through `pipeline.build` (parse, identity
with the vault's export state, render), so each card has the guid the export gives it, and
`models.card.model_job` makes its job as the export does: the same seed, figures and diagnostics,
printed as a report. Nothing is written into the vault (no export state, no cache).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from notecards.models.card import model_job
from notecards.sim.closed_form import closed_form
from notecards.sim.compare import summary_text
from notecards.sim.describe import describe_node, format_value, summarise
from notecards.sim.expr import format_expr
from notecards.sim.model import ModelSpec, SimResult
from notecards.sim.numerics import quiet_numerics
from notecards.models.run import (CodeLimits, SimJob, cache_key, draw_fit, draw_result, environment,
                                  fit_job, render_job, simulate_job)
from notecards.types import Card, Diagnostic, exit_status


def _exact_labels(spec: ModelSpec) -> dict[str, str]:
    return {name: m.label for name, m in closed_form(spec).marginals.items()}


def report_json(spec: ModelSpec, result: SimResult | None) -> dict:
    """The model as understood, its values, summaries of every drawn variable, checks, comparisons."""
    model = [{"name": n.name, "kind": n.kind, "line": n.line, "statement": describe_node(n),
              "written": n.source, "dist": n.dist, "args": {k: format_expr(v) for k, v in n.args.items()},
              "plate": ",".join(n.plates) or None, "index": ",".join(n.indices) or None}
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


def run_sim_command(note: Path, line: int | None, out_dir: Path, as_json: bool, settings,
                    vault: Path | None = None, shown: Callable[[str], str] | None = None) -> tuple[str, int]:
    """Build the note as the export would, pick the card at LINE (every card with a model when
    LINE is None), simulate, write figures to out_dir. `vault` is the vault the note belongs to
    (its folder when not given); `shown` turns a vault-relative path into the path printed (the
    CLI's one rule). Returns (what to print — JSON with `as_json`, errors included — and the exit
    code: 0 ok, 1 errors or failed checks, 2 when LINE holds no card)."""
    from notecards.export_state import load_state
    from notecards.pipeline import BuildOptions, build

    vault = vault if vault is not None else note.parent
    shown = shown or (lambda rel: rel)
    rel = note.resolve().relative_to(vault.resolve()).as_posix()
    built = build(vault, settings, load_state(vault), BuildOptions(files=[rel], simulate=False, read_only=True,
                                                                   workers=1))
    diagnostics = list(built.diagnostics)
    if not built.parsed:
        return _failure(shown(rel), [_shown(d, shown) for d in diagnostics], as_json), 1
    source = built.parsed[0].source
    chosen = [c for c in built.cards if line is None or c.block.line <= line <= c.block.end_line]
    if line is not None and not chosen:
        return _failure(shown(rel), [Diagnostic(shown(rel), line, "error", "no card at this line")], as_json), 2
    env, code = environment(), CodeLimits.allowed_by(settings)
    cards = []
    for card in chosen:
        entry = _report_card(card, source.text, out_dir, as_json, (env, code), diagnostics)
        if entry is not None or line is not None:
            cards.append(entry or {"line": card.block.line, "model": None})
    status = 1 if any(c.get("checks_failed") for c in cards) else exit_status(diagnostics)
    diagnostics = [_shown(d, shown) for d in diagnostics]
    if as_json:
        return json.dumps({"note": shown(source.path), "cards": cards,
                           "diagnostics": [d.to_dict() for d in diagnostics]}, indent=2, ensure_ascii=False), status
    return _text_output(shown(source.path), cards, diagnostics), status


def _shown(d: Diagnostic, shown: Callable[[str], str]) -> Diagnostic:
    return Diagnostic(shown(d.path), d.line, d.severity, d.message, d.col) if d.path else d


def _failure(note: str, diagnostics: list[Diagnostic], as_json: bool) -> str:
    if as_json:
        return json.dumps({"note": note, "cards": [], "diagnostics": [d.to_dict() for d in diagnostics]},
                          indent=2, ensure_ascii=False)
    return "\n".join(d.format() for d in diagnostics)


def _report_card(card: Card, note_text: str, out_dir: Path, as_json: bool,
                 run: tuple[dict[str, str], CodeLimits | None], diagnostics: list[Diagnostic]) -> dict | None:
    """One card's report and figures (written to out_dir); None when it has no model. `run` is
    the environment and code limits its cache key (the figures' names) is made with."""
    job, found = model_job(card, note_text)
    diagnostics += found
    if job is None:
        return None
    env, code = run
    report, rendered = _run_card(job, cache_key(job, env, code), code, as_json)
    diagnostics += rendered.diagnostics
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fig in rendered.figures:
        (out_dir / fig.name).write_bytes(fig.data)
        paths.append(str(out_dir / fig.name))
    return {"line": card.block.line, "model": report, "figures": paths, "checks_failed": rendered.checks_failed}


def _run_card(job: SimJob, key: str, code: CodeLimits | None, as_json: bool):
    """(the card's report, its figures) drawn as the export draws them, so the names in the
    output folder are the names in the package; a python sim block has no report."""
    with quiet_numerics():
        return _card_report(job, key, code, as_json)


def _card_report(job: SimJob, key: str, code: CodeLimits | None, as_json: bool):
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
