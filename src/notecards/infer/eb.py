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
from .fit import summary_of
from .graph import ModelGraph, UnsupportedModel
from .result import FitResult, ParamSummary

LABEL_HYPER = "empirical bayes: maximum marginal likelihood"
LABEL_GROUP = "exact normal conditional given the estimated hyperparameters"


def fit_empirical_bayes(graph: ModelGraph, rng: np.random.Generator, *, chains: int,
                        draws: int) -> FitResult:
    block = _the_hierarchy(graph)
    precision, ybar = block._group_data(graph.env({}), {}, 1)
    tau_hat, mu_hat, v_hat = _maximise(block, precision, ybar)
    shape = (chains, draws, block.theta.size)
    post_precision = (1.0 / v_hat if v_hat > 0 else np.inf) + precision[0]
    if v_hat > 0:
        post_mean = (mu_hat / v_hat + precision[0] * ybar[0]) / post_precision
        theta = post_mean + rng.standard_normal(shape) / np.sqrt(post_precision)
    else:
        theta = np.full(shape, mu_hat)
    result = FitResult(method="empirical bayes", chains=chains, iterations=draws, warmup=0)
    result.params[block.tau.name] = _point(tau_hat)
    result.samplers[block.tau.name] = LABEL_HYPER
    if block.mu is not None:
        result.params[block.mu.name] = _point(mu_hat)
        result.samplers[block.mu.name] = LABEL_HYPER
    for k in range(block.theta.size):
        result.params[f"{block.theta.name}[{k + 1}]"] = summary_of(theta[:, :, k])
    result.samplers[block.theta.name] = LABEL_GROUP
    result.draws = {block.theta.name: theta,
                    block.tau.name: np.full((chains, draws), tau_hat)}
    if block.mu is not None:
        result.draws[block.mu.name] = np.full((chains, draws), mu_hat)
    return result


def _the_hierarchy(graph: ModelGraph) -> NormalHierarchy:
    blocks = find_normal_hierarchies(graph)
    if len(blocks) != 1 or set(graph.latent) != set(blocks[0].nodes):
        raise UnsupportedModel(graph.spec.line, "empirical Bayes needs one normal hierarchy "
                               "(theta[1..J] ~ Normal(mu, tau^2) over data of known variance)")
    return blocks[0]


def _maximise(block: NormalHierarchy, precision: np.ndarray, ybar: np.ndarray):
    """(τ̂, μ̂, f(τ̂)) maximising the marginal likelihood, μ profiled out."""
    mu_fixed = None if block.mu is not None else float(
        block.graph.evaluate(block.theta.node.args["mean"], block.graph.env({}), block.theta.node)[0, 0])

    def negative_log_marginal(tau: float) -> float:
        v = float(block._theta_variance({}, np.array([[tau]]))[0, 0])
        variance = v + 1.0 / observed_precision
        w = 1.0 / variance
        mu = mu_fixed if mu_fixed is not None else float(np.sum(w * observed) / np.sum(w))
        return 0.5 * float(np.sum(np.log(variance) + w * np.square(observed - mu))), mu, v

    has_data = precision[0] > 0
    observed, observed_precision = ybar[0][has_data], precision[0][has_data]
    spread = float(np.ptp(observed) + np.sqrt(np.max(1.0 / observed_precision)))
    best = optimize.minimize_scalar(lambda t: negative_log_marginal(t)[0], bounds=(0.0, 10 * spread),
                                    method="bounded", options={"xatol": 1e-6 * spread})
    tau = float(best.x)
    if negative_log_marginal(0.0)[0] <= best.fun:
        tau = 0.0
    _, mu, v = negative_log_marginal(tau)
    return tau, mu, v


def _point(value: float) -> ParamSummary:
    return ParamSummary(mean=value, sd=0.0, q5=value, q50=value, q95=value, rhat=float("nan"),
                        ess=float("nan"), ess_tail=float("nan"))
