"""Model stage: where a card's model comes from — a ```sim block, a ```python sim block, or the
card's own LaTeX — and whether it is simulated or fitted. Cards with neither cost nothing: numpy
and the sim parser are imported only when a card could hold a model.

A model with data (a name given values, then a `~` law: `y = [...]` / `y[j] ~ …`) is fitted to
it; a sim block in a note with a markdown table or a ```csv block binds the table's columns by
name (`notecards.infer.tables`). Fitting has its own options, one per line in the sim block:

    fit = mcmc              the default for a model with data: several chains of Gibbs/slice steps
    fit = empirical_bayes   hyperparameters by maximum marginal likelihood (also `fit = eb`)
    fit = prior             ignore the data's values: simulate the model forward, as without data
    chains = 4              number of chains (1 to 16)
    warmup = 1000           iterations per chain before draws are kept
    draws = 2000            (or `n = …`) draws kept per chain when fitted

Choices: a fitted card shows the posterior, not the prior simulation too — n fresh datasets
drawn from the prior are not what a card with data is about, they would double the work, and
for a large data set they would exceed the element budget; `fit = prior` gives the forward
picture instead. `check:` lines state facts about forward draws, so in a fitted block they are
not run and each gets a warning that says so; `show =` is not used by the posterior figures
(an info). Fit options in a model without data are a warning and the model is simulated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notecards.sim.model import ModelSpec
from notecards.types import CardBlock, Diagnostic

_SIM_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>python[ \t]+sim|sim)[ \t]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)
_FIT_OPTION = re.compile(r"^\s*(?P<name>fit|chains|warmup)\s*=\s*(?P<value>[^#]*?)\s*(?:#.*)?$")
_DRAWS_OPTION = re.compile(r"^\s*(?:n|draws)\s*=", re.M)
_SHOW_OPTION = re.compile(r"^\s*show\s*[=:]", re.M | re.I)
_TABLE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*\|"        # a pipe table's separator row
                    r"|^\s*```+\s*csv\s*$", re.M)
METHODS = {"mcmc": "mcmc", "empirical_bayes": "empirical_bayes", "empirical-bayes": "empirical_bayes",
           "eb": "empirical_bayes", "prior": "prior"}
MAX_CHAINS = 16
MAX_WARMUP = 1_000_000


@dataclass(frozen=True)
class FitOptions:
    """How a model with data is fitted; part of the cache key."""

    method: str = "mcmc"     # or "empirical_bayes"
    chains: int = 4
    draws: int = 2000        # kept per chain
    warmup: int = 1000


@dataclass
class ModelSource:
    """A card's model: a parsed spec, or code to run in the sandbox; `fit` when it is fitted."""

    line: int
    spec: ModelSpec | None = None
    code: str | None = None
    fit: FitOptions | None = None


def find_model(block: CardBlock, note_text: str = "") -> tuple[ModelSource | None, list[Diagnostic]]:
    """The card's model, from its first sim block or else from its LaTeX; None when it has none.

    `note_text` is the whole note, whose tables and csv blocks can hold a sim block's data."""
    for name, text in block.fields.items():
        match = _SIM_FENCE.search(text)
        if match is None:
            continue
        line = block.field_lines.get(name, block.line) + text.count("\n", 0, match.start())
        if match["info"].startswith("python"):
            return ModelSource(line, code=match["body"]), []
        return _sim_block(block.path, match["body"], line, note_text)
    if not any("\\sim" in text for text in block.fields.values()):
        return None, []
    from notecards.sim.latex import model_from_latex
    spec, diagnostics = model_from_latex(block)
    if spec is None:
        return None, diagnostics
    return ModelSource(spec.line, spec=spec, fit=FitOptions() if spec.observed() else None), diagnostics


def _sim_block(path: str, body: str, line: int, note_text: str) -> tuple[ModelSource | None, list[Diagnostic]]:
    body, options, diagnostics = split_fit_options(body, path, line + 1)
    if _TABLE.search(note_text):
        from notecards.infer.tables import parse_with_tables
        spec, parsed, _ = parse_with_tables(body, note_text, path, line + 1)
    else:
        from notecards.sim.lang import parse_sim
        spec, parsed = parse_sim(body, path, line + 1)
    diagnostics += parsed
    if spec is None or any(d.severity == "error" for d in diagnostics):
        return None, sorted(diagnostics, key=lambda d: d.line)
    show = _SHOW_OPTION.search(body)
    show_line = line + 1 + body.count("\n", 0, show.start()) if show else None
    fit, notes = fit_options(spec, options, bool(_DRAWS_OPTION.search(body)), show_line)
    return ModelSource(line, spec=spec, fit=fit), sorted(diagnostics + notes, key=lambda d: d.line)


def split_fit_options(body: str, path: str,
                      first_line: int) -> tuple[str, dict[str, tuple[str, int]], list[Diagnostic]]:
    """The block without its fit options (blank lines in their place, so line numbers hold),
    the options as written with their lines, and errors for values that are not options."""
    lines = body.split("\n")
    options: dict[str, tuple[str, int]] = {}
    errors = []
    for k, raw in enumerate(lines):
        match = _FIT_OPTION.match(raw)
        if match is None:
            continue
        name, value, at = match["name"], match["value"], first_line + k
        problem = _option_problem(name, value)
        if problem:
            errors.append(Diagnostic(path, at, "error", problem))
        elif name in options:
            errors.append(Diagnostic(path, at, "error", f"{name} is already set at line {options[name][1]}"))
        else:
            options[name] = (value, at)
        lines[k] = ""
    return "\n".join(lines), options, errors


def _option_problem(name: str, value: str) -> str | None:
    if name == "fit":
        if value.lower() not in METHODS:
            return f"fit = {value}: expected mcmc, empirical_bayes or prior"
        return None
    limit = MAX_CHAINS if name == "chains" else MAX_WARMUP
    low = 1 if name == "chains" else 0
    if not re.fullmatch(r"\d+", value) or not low <= int(value) <= limit:
        return f"{name} must be a whole number from {low} to {limit:,}"
    return None


def fit_options(spec: ModelSpec, options: dict[str, tuple[str, int]], draws_set: bool,
                show_line: int | None = None) -> tuple[FitOptions | None, list[Diagnostic]]:
    """How the model is run: None to simulate it, FitOptions to fit it to its data."""
    method = METHODS[options["fit"][0].lower()] if "fit" in options else "mcmc"
    if not spec.observed():
        notes = []
        if options:
            first = min(at for _, at in options.values())
            notes.append(Diagnostic(spec.path, first, "warning", (
                "fit options but no data to fit: give a variable values (y = [...]) and then a ~ law "
                "(y[j] ~ ...), or bind a table column; the model is simulated from its prior")))
        return None, notes
    if method == "prior":
        return None, []
    defaults = FitOptions()
    fit = FitOptions(method=method,
                     chains=int(options["chains"][0]) if "chains" in options else defaults.chains,
                     draws=spec.n if draws_set else defaults.draws,
                     warmup=int(options["warmup"][0]) if "warmup" in options else defaults.warmup)
    notes = [Diagnostic(spec.path, check.line, "warning", (
        "check: lines test forward draws; this block is fitted to its data, so the check is not "
        "run (write `fit = prior` to simulate the model instead)")) for check in spec.checks]
    if show_line is not None:
        notes.append(Diagnostic(spec.path, show_line, "info", (
            "show = is not used by a fitted model: its figures show the scalar unknowns and the "
            "table lists every one")))
    return fit, notes
