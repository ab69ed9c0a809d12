"""The collapsed step for a normal hierarchy: (τ, μ, θ) drawn as one block.

Pattern: θ[1..J] ~ Normal(μ, f(τ)) whose children all read θ[g] as a Normal mean with a variance
free of θ, μ and τ (known s_j², or an unknown σ² sampled elsewhere); μ is a constant or a scalar
with a Normal or Uniform prior read only by θ; τ is a scalar read only by θ's variance.

Given the rest, each group's data reduce to ȳ_j with precision P_j, θ_j integrates out
(ȳ_j ~ N(μ, f(τ) + 1/P_j)) and μ integrates out in closed form, leaving the one-dimensional
marginal p(τ | y). The step slice-samples τ from it, then draws μ | τ, y and θ | μ, τ, y exactly.
This is a blocked Gibbs draw of (τ, μ, θ) (partially collapsed Gibbs, van Dyk & Park 2008): it is
exact, and it removes the τ–θ coupling that makes the plain Gibbs sampler crawl near τ = 0 (the
funnel of eight schools), so the draws are close to independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from notecards.sim.distributions import REGISTRY
from notecards.sim.expr import Val

from .conjugate import truncated_normal
from .graph import Latent, ModelGraph, names_in
from .mh import SliceSampler, transform_for


@dataclass(eq=False)
class NormalHierarchy:
    """The collapsed step for one (τ, μ, θ) triple; μ is None when θ's mean is known."""

    graph: ModelGraph
    theta: Latent
    tau: Latent
    mu: Latent | None
    sampler: SliceSampler

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(x.name for x in (self.tau, self.mu, self.theta) if x is not None)

    def labels(self) -> dict[str, str]:
        tau, theta = self.tau.name, self.theta.name
        hidden = theta if self.mu is None else f"{theta}, {self.mu.name}"
        labels = {tau: f"slice on the marginal p({tau} | data) ({hidden} integrated out)",
                  theta: f"gibbs: normal-normal conjugate given the block's {tau}"}
        if self.mu is not None:
            labels[self.mu.name] = f"gibbs: normal-normal conjugate given {tau}, {theta} integrated out"
        return labels

    def update(self, state: dict[str, np.ndarray], rng: np.random.Generator, adapt: bool) -> None:
        chains = state[self.tau.name].shape[0]
        env = self.graph.env(state)
        precision, ybar = self.group_data(env, state, chains)
        has_data = None if np.all(precision > 0) else precision > 0
        mu_prior = self.graph.args_of(self.mu.node, env) if self.mu is not None else None
        tau_prior = self.graph.args_of(self.tau.node, env)

        def log_marginal(tau: np.ndarray) -> np.ndarray:
            w = precision / (1.0 + self.theta_variance(tau) * precision)
            return (REGISTRY[self.tau.node.dist].log_prob(tau, tau_prior) + _half_log_sum(w, has_data)
                    + self._mu_integral(w, ybar, mu_prior, env)[0])

        tau = self.sampler.step(state[self.tau.name], log_marginal, rng, adapt)
        v = self.theta_variance(tau)
        w = precision / (1.0 + v * precision)
        if self.mu is not None:
            _, mean, prec = self._mu_integral(w, ybar, mu_prior, env)
            mu = self._draw_mu(mean, prec, mu_prior, rng, chains)
            state[self.mu.name] = mu
        else:
            mu = self.graph.evaluate(self.theta.node.args["mean"], env, self.theta.node)
        post_precision = 1.0 / v + precision
        post_mean = (mu / v + precision * ybar) / post_precision
        state[self.tau.name] = tau
        state[self.theta.name] = post_mean + rng.standard_normal(post_mean.shape) / np.sqrt(post_precision)

    def group_data(self, env, state, chains) -> tuple[np.ndarray, np.ndarray]:
        """Each group's data as one normal observation: precision P_j and mean ȳ_j (0 without data)."""
        precision = np.zeros((chains, self.theta.size))
        weighted = np.zeros((chains, self.theta.size))
        for ref in self.theta.refs:
            child = self.graph.stochastic[ref.child]
            p = 1.0 / self.graph.args_of(child, env, skip="mean")["var"]
            y = self.graph.value_of(ref.child, state)
            shape = np.broadcast_shapes(p.shape, y.shape)
            precision += self.graph.group_sum(np.broadcast_to(p, shape), self.theta, ref.groups, chains)
            weighted += self.graph.group_sum(np.broadcast_to(p * y, shape), self.theta, ref.groups, chains)
        ybar = np.divide(weighted, precision, out=np.zeros_like(weighted), where=precision > 0)
        return precision, ybar

    def theta_variance(self, tau: np.ndarray) -> np.ndarray:
        """f(τ), the variance of θ: τ is the only unknown it reads (`_match` makes sure)."""
        env = {**self.graph.constants, self.tau.name: Val(tau[:, 0])}
        return self.graph.args_of(self.theta.node, env, skip="mean")["var"]

    def _mu_integral(self, w, ybar, mu_prior, env):
        """log ∫ p(μ) Π N(ȳ_j; μ, 1/w_j) dμ (up to a constant), and μ's conditional mean and precision."""
        if self.mu is None:
            mu = self.graph.evaluate(self.theta.node.args["mean"], env, self.theta.node)
            return -0.5 * (w * np.square(ybar - mu)).sum(axis=1, keepdims=True), None, None
        wsum = w.sum(axis=1, keepdims=True)
        wy = (w * ybar).sum(axis=1, keepdims=True)
        if self.mu.node.dist == "Normal":
            p0 = 1.0 / mu_prior["var"]
            m0 = mu_prior["mean"]
            prec = p0 + wsum
            mean = (p0 * m0 + wy) / prec
            quad = (w * np.square(ybar - mean)).sum(axis=1, keepdims=True) + p0 * np.square(m0 - mean)
            return -0.5 * np.log(prec) - 0.5 * quad, mean, prec
        prec = wsum
        mean = wy / prec
        quad = (w * np.square(ybar - mean)).sum(axis=1, keepdims=True)
        sd = 1.0 / np.sqrt(prec)
        mass = special.ndtr((mu_prior["high"] - mean) / sd) - special.ndtr((mu_prior["low"] - mean) / sd)
        return -0.5 * np.log(prec) - 0.5 * quad + np.log(mass), mean, prec

    def _draw_mu(self, mean, prec, mu_prior, rng, chains) -> np.ndarray:
        sd = 1.0 / np.sqrt(prec)
        if self.mu.node.dist == "Normal":
            return mean + sd * rng.standard_normal((chains, 1))
        return truncated_normal(mean, sd, mu_prior["low"], mu_prior["high"], rng, (chains, 1))


def _half_log_sum(w: np.ndarray, has_data: np.ndarray | None) -> np.ndarray:
    """½ Σ_j log w_j over the groups that have data (a group without data adds nothing)."""
    if has_data is None:
        return 0.5 * np.log(w).sum(axis=1, keepdims=True)
    return 0.5 * np.where(has_data, np.log(np.where(has_data, w, 1.0)), 0.0).sum(axis=1, keepdims=True)


def find_normal_hierarchies(graph: ModelGraph) -> list[NormalHierarchy]:
    """Every (τ, μ, θ) triple that fits the pattern of the module docstring."""
    found = []
    for theta in graph.latent.values():
        block = _match(graph, theta)
        if block is not None:
            found.append(block)
    return found


def _match(graph: ModelGraph, theta: Latent) -> NormalHierarchy | None:
    node = theta.node
    if node.dist != "Normal" or not theta.plated or not theta.refs:
        return None
    for ref in theta.refs:
        child = graph.stochastic[ref.child]
        if child.dist != "Normal" or ref.arg != "mean" or ref.form != "direct" or ref.groups is None:
            return None
    mean_names = names_in(node.args["mean"]) & graph.unknowns
    variance_names = names_in(node.args["var"]) & graph.unknowns
    if len(variance_names) != 1 or len(mean_names) > 1 or mean_names & variance_names:
        return None
    tau = graph.latent.get(next(iter(variance_names)))
    if tau is None or tau.size != 1 or tau.plated or not _only_child(tau, theta.name):
        return None
    mu = None
    if mean_names:
        mu = graph.latent.get(next(iter(mean_names)))
        if mu is None or not _is_hyper_mean(graph, mu, theta):
            return None
    return NormalHierarchy(graph, theta, tau, mu, SliceSampler(transform_for(graph, tau)))


def _only_child(parent: Latent, child: str) -> bool:
    return all(ref.child == child for ref in parent.refs)


def _is_hyper_mean(graph: ModelGraph, mu: Latent, theta: Latent) -> bool:
    if mu.size != 1 or mu.node.dist not in ("Normal", "Uniform"):
        return False
    if len(mu.refs) != 1 or mu.refs[0].arg != "mean" or mu.refs[0].form != "direct":
        return False
    return graph.args_known(mu.node)

