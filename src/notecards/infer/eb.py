"""Empirical Bayes for a normal hierarchy: hyperparameters by marginal likelihood, then the group
parameters from their exact conditional posterior.

With θ_j ~ N(μ, f(τ)) and group data ȳ_j of precision P_j, the marginal likelihood is
Π_j N(ȳ_j; μ, f(τ) + 1/P_j). For each τ the best μ is the precision-weighted mean of the ȳ_j, so
the maximisation is one-dimensional over τ ≥ 0 (bounded Brent search). The maximum may sit at
τ = 0 — complete pooling — as it does for eight schools; that is the method's answer, reported
as such, not an error. θ | μ̂, τ̂, y is normal and drawn exactly, so its R-hat and ESS are those
of independent draws; the hyperparameters are point estimates (sd 0, no R-hat).

Only the pattern of `collapsed.NormalHierarchy` with every other quantity known is handled;
anything else is a diagnostic and no fit.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from .collapsed import NormalHierarchy, find_normal_hierarchies
from .graph import ModelGraph, UnsupportedModel
from .result import FitResult, ParamSummary

LABEL_HYPER = "empirical bayes: maximum marginal likelihood"
LABEL_GROUP = "exact normal conditional given the estimated hyperparameters"


def fit_empirical_bayes(graph: ModelGraph, rng: np.random.Generator, *, chains: int,
                        draws: int) -> FitResult:
    block = _the_hierarchy(graph)
    # every unknown is in the block, so the groups' data need only the constants
    precision, ybar = (a[0] for a in block.group_data(graph.constants, {}, 1))
    tau_hat, mu_hat, v_hat = _maximise(block, precision, ybar)
    shape = (chains, draws, block.theta.size)
    if v_hat > 0:
        post_precision = 1.0 / v_hat + precision
        post_mean = (mu_hat / v_hat + precision * ybar) / post_precision
        theta = post_mean + rng.standard_normal(shape) / np.sqrt(post_precision)
    else:
        theta = np.full(shape, mu_hat)
    result = FitResult(method="empirical bayes", chains=chains, iterations=draws, warmup=0)
    hyper = {block.tau.name: tau_hat} | ({block.mu.name: mu_hat} if block.mu is not None else {})
    for name, value in hyper.items():
        result.params[name] = ParamSummary.point(value)
        result.samplers[name] = LABEL_HYPER
        result.draws[name] = np.full((chains, draws), value)
    for k in range(block.theta.size):
        result.params[f"{block.theta.name}[{k + 1}]"] = ParamSummary.of_draws(theta[:, :, k])
    result.samplers[block.theta.name] = LABEL_GROUP
    result.draws[block.theta.name] = theta
    return result


def _the_hierarchy(graph: ModelGraph) -> NormalHierarchy:
    blocks = find_normal_hierarchies(graph)
    if len(blocks) != 1 or set(graph.latent) != set(blocks[0].nodes):
        raise UnsupportedModel(graph.spec.line, "empirical Bayes needs one normal hierarchy "
                               "(theta[1..J] ~ Normal(mu, tau^2) over data of known variance)")
    return blocks[0]


def _maximise(block: NormalHierarchy, precision: np.ndarray,
              ybar: np.ndarray) -> tuple[float, float, float]:
    """(τ̂, μ̂, f(τ̂)) maximising the marginal likelihood, μ profiled out."""
    has_data = precision > 0
    observed, observed_variance = ybar[has_data], 1.0 / precision[has_data]
    graph, theta = block.graph, block.theta.node
    mu_fixed = None if block.mu is not None else float(
        graph.evaluate(theta.args["mean"], graph.constants, theta)[0, 0])

    def profile(tau: float) -> tuple[float, float, float]:
        """−log marginal likelihood at τ with μ at its best, that μ, and f(τ)."""
        v = float(block.theta_variance(np.array([[tau]]))[0, 0])
        variance = v + observed_variance
        w = 1.0 / variance
        mu = mu_fixed if mu_fixed is not None else float(np.sum(w * observed) / np.sum(w))
        return 0.5 * float(np.sum(np.log(variance) + w * np.square(observed - mu))), mu, v

    spread = float(np.ptp(observed) + np.sqrt(np.max(observed_variance)))
    best = optimize.minimize_scalar(lambda t: profile(t)[0], bounds=(0.0, 10 * spread),
                                    method="bounded", options={"xatol": 1e-6 * spread})
    # the bounded search never evaluates its end point: complete pooling is checked on its own
    tau = 0.0 if profile(0.0)[0] <= best.fun else float(best.x)
    _, mu, v = profile(tau)
    return tau, mu, v
