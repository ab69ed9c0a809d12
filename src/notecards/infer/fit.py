"""`fit`: the model's posterior from its data, with summaries and convergence warnings.

The draws a fit keeps, chains × draws × the unknowns' elements, share the sim language's budget
(`MAX_ELEMENTS`): a fit that would exceed it is a warning on the block and no fit, before any
array is allocated. The data count once, as data.

Warnings follow the usual thresholds for four chains (Vehtari et al. 2021): R-hat above 1.01 or
a bulk or tail ESS below 400 is a warning on the node's line; R-hat above 1.1 also says the fit
did not converge within its budget of draws. A model the samplers cannot handle is a warning on
the line that makes it so, and an empty result: the rest of the export goes on.

Parameters keep their numeric names (`theta[2]`), which machines can rely on; a group numbered
by a table's grouping column also gets its label (`result.labels["theta[2]"] == "Hillside"`).
"""

from __future__ import annotations

import numpy as np

from notecards.sim.expr import MAX_ELEMENTS
from notecards.sim.model import ModelSpec
from notecards.types import Diagnostic

from .chains import build_schedule, run_chains
from .eb import fit_empirical_bayes
from .graph import ModelGraph, UnsupportedModel
from .result import FitResult, ParamSummary
from .tables import parameter_labels

RHAT_WARN = 1.01
RHAT_FAIL = 1.1
ESS_WARN = 400


def fit(spec: ModelSpec, seed: int | np.random.SeedSequence, *, chains: int = 4,
        draws: int = 2000, warmup: int = 1000, empirical_bayes: bool = False) -> FitResult:
    """Fit `spec`'s unknowns to its observed data; deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    try:
        graph = ModelGraph(spec)
        check_budget(graph, chains, draws)
        if empirical_bayes:
            result = fit_empirical_bayes(graph, rng, chains=chains, draws=draws)
        else:
            result = fit_mcmc(graph, rng, chains, draws, warmup)
    except UnsupportedModel as problem:
        return FitResult(diagnostics=[Diagnostic(spec.path, problem.line, "warning",
                                                 f"cannot fit this model: {problem}")])
    result.labels = parameter_labels(spec, list(result.params))
    return result


def fit_mcmc(graph: ModelGraph, rng: np.random.Generator, chains: int, draws: int,
             warmup: int) -> FitResult:
    schedule = build_schedule(graph)
    kept = run_chains(graph, schedule, rng, chains, draws, warmup)
    result = FitResult(samplers=schedule.labels, chains=chains, iterations=draws, warmup=warmup)
    result.draws = {name: _shaped(graph, name, value) for name, value in kept.items()}
    result.params = summarise(graph, kept)
    result.diagnostics = convergence_warnings(graph, result)
    return result


def check_budget(graph: ModelGraph, chains: int, draws: int) -> None:
    """Refuse a fit whose kept draws would not fit the budget (raised before allocating)."""
    elements = sum(latent.size for latent in graph.latent.values())
    if chains * draws * elements > MAX_ELEMENTS:
        raise UnsupportedModel(graph.spec.line, (
            f"too many values to keep: {chains} chains × {draws:,} draws × {elements:,} unknowns "
            f"exceeds {MAX_ELEMENTS:,}; lower draws or chains"))


def _shaped(graph: ModelGraph, name: str, value: np.ndarray) -> np.ndarray:
    latent = graph.latent[name]
    return value[:, :, 0] if latent.size == 1 and not latent.plated else value


def parameter_names(graph: ModelGraph, name: str) -> list[str]:
    latent = graph.latent[name]
    if latent.size == 1 and not latent.plated:
        return [name]
    return [f"{name}[{k + 1}]" for k in range(latent.size)]


def summarise(graph: ModelGraph, kept: dict[str, np.ndarray]) -> dict[str, ParamSummary]:
    params = {}
    for name, value in kept.items():
        for k, label in enumerate(parameter_names(graph, name)):
            params[label] = ParamSummary.of_draws(value[:, :, k])
    return params


def convergence_warnings(graph: ModelGraph, result: FitResult) -> list[Diagnostic]:
    """The thresholds of the module docstring, each warning on the line of its node."""
    path = graph.spec.path
    found = []
    unconverged = False
    for name in graph.latent:
        line = graph.latent[name].node.line
        for label in parameter_names(graph, name):
            p = result.params[label]
            if not np.isfinite(p.mean):
                found.append(Diagnostic(path, line, "warning", f"{label}: the draws are not finite"))
                unconverged = True
                continue
            if np.isfinite(p.rhat) and p.rhat > RHAT_WARN:
                found.append(Diagnostic(path, line, "warning",
                                        f"{label}: R-hat {p.rhat:.3f} > {RHAT_WARN}: the chains disagree"))
                unconverged |= p.rhat > RHAT_FAIL
            low = min((v for v in (p.ess, p.ess_tail) if np.isfinite(v)), default=np.inf)
            if low < ESS_WARN:
                found.append(Diagnostic(path, line, "warning",
                                        f"{label}: effective sample size {low:.0f} < {ESS_WARN}"))
    if unconverged:
        found.append(Diagnostic(path, graph.spec.line, "warning",
                                f"the fit did not converge within {result.iterations} draws per chain "
                                f"({result.chains} chains): treat its posterior as unreliable"))
    return found
