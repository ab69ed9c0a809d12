"""Slice sampling (Neal 2003, stepping out and shrinkage) for nodes without a conjugate update.

Every element of the array is an independent one-dimensional slice sampler: the chains, and the
elements of a plated node whose children each read one element, are conditionally independent,
so one call moves them all and each `log_density` evaluation serves the whole array. Sampling
happens on an unconstrained scale (log for positive laws, logit for Beta and bounded Uniform)
with the Jacobian added, so a half-Cauchy τ near zero needs no special care.

Stepping out is capped at MAX_STEPS_OUT widths in all, split at random between the two sides
(Neal 2003, §4.1): a fixed cap per side would make the bracket depend on where the current point
sits, and the kernel would no longer leave the target invariant.

The bracket width adapts during warmup to a multiple of the spread of the recent draws and is
frozen afterwards, so the kept draws come from a fixed, valid kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import special

from notecards.sim.distributions import REGISTRY

from .graph import Latent, ModelGraph, UnsupportedModel

LogDensity = Callable[[np.ndarray], np.ndarray]
MAX_STEPS_OUT = 60
MAX_SHRINKS = 60
ADAPT_WINDOW = 50


@dataclass(frozen=True)
class Transform:
    """x = lower + (upper - lower)·sigmoid(u), x = lower + exp(u), or x = u."""

    kind: str = "identity"            # "identity", "log", "logit"
    lower: float = 0.0
    upper: float = 1.0

    def to_x(self, u: np.ndarray) -> np.ndarray:
        if self.kind == "log":
            return self.lower + np.exp(u)
        if self.kind == "logit":
            return self.lower + (self.upper - self.lower) * special.expit(u)
        return u

    def to_u(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "log":
            return np.log(x - self.lower)
        if self.kind == "logit":
            return special.logit((x - self.lower) / (self.upper - self.lower))
        return x

    def log_jacobian(self, u: np.ndarray) -> np.ndarray:
        if self.kind == "log":
            return u
        if self.kind == "logit":
            return np.log(self.upper - self.lower) - np.logaddexp(0.0, u) - np.logaddexp(0.0, -u)
        return np.zeros_like(u)


@dataclass
class SliceSampler:
    """Adaptive-width univariate slice sampler over an array of independent coordinates."""

    transform: Transform
    width: np.ndarray | float = 1.0
    _window: list[np.ndarray] = field(default_factory=list)

    def step(self, x: np.ndarray, log_density: LogDensity, rng: np.random.Generator,
             adapt: bool) -> np.ndarray:
        u0 = self.transform.to_u(x)
        new_u = self._slice(u0, lambda u: self._log_target(u, log_density), rng)
        if adapt:
            self._adapt(new_u)
        return self.transform.to_x(new_u)

    def _log_target(self, u: np.ndarray, log_density: LogDensity) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = log_density(self.transform.to_x(u)) + self.transform.log_jacobian(u)
        return np.where(np.isnan(value), -np.inf, value)

    def _slice(self, u0: np.ndarray, log_target: LogDensity, rng: np.random.Generator) -> np.ndarray:
        level = log_target(u0) - rng.exponential(size=u0.shape)
        width = np.broadcast_to(self.width, u0.shape)
        left = u0 - width * rng.uniform(size=u0.shape)
        right = left + width
        steps_left = np.floor(MAX_STEPS_OUT * rng.uniform(size=u0.shape))
        steps_right = MAX_STEPS_OUT - 1 - steps_left
        grow_left, grow_right = steps_left > 0, steps_right > 0
        for step in range(MAX_STEPS_OUT):
            if grow_left.any():
                grow_left &= (step < steps_left) & (log_target(left) > level)
                left = np.where(grow_left, left - width, left)
            if grow_right.any():
                grow_right &= (step < steps_right) & (log_target(right) > level)
                right = np.where(grow_right, right + width, right)
            if not (grow_left.any() or grow_right.any()):
                break
        current = u0.copy()
        pending = np.ones(u0.shape, dtype=bool)
        for _ in range(MAX_SHRINKS):
            proposal = left + (right - left) * rng.uniform(size=u0.shape)
            accepted = pending & (log_target(proposal) > level)
            current = np.where(accepted, proposal, current)
            pending &= ~accepted
            if not pending.any():
                break
            below = proposal < u0
            left = np.where(pending & below, proposal, left)
            right = np.where(pending & ~below, proposal, right)
        return current

    def _adapt(self, u: np.ndarray) -> None:
        self._window.append(u)
        if len(self._window) < ADAPT_WINDOW:
            return
        spread = np.std(np.stack(self._window), axis=(0, 1))
        self.width = np.maximum(2.0 * spread, 1e-3)
        self._window = []


def transform_for(graph: ModelGraph, latent: Latent) -> Transform:
    """The unconstrained scale of a node's support: log for positive laws, logit for bounded."""
    dist = latent.node.dist or ""
    law = REGISTRY.get(dist)
    if law is None or law.discrete or law.log_density is None:
        raise UnsupportedModel(latent.node.line,
                               f"{latent.name} ~ {dist}: only continuous unknowns can be sampled")
    if law.support == "positive":
        return Transform("log")
    if dist == "Beta":
        return Transform("logit")
    if dist == "Uniform":
        if graph.args_known(latent.node):
            args = graph.args_of(latent.node, graph.constants)
            return Transform("logit", float(args["low"].item()), float(args["high"].item()))
    return Transform()


def conditional_log_density(graph: ModelGraph, latent: Latent,
                            state: dict[str, np.ndarray]) -> LogDensity:
    """log p(x | everything else) per element, up to a constant: the prior plus every child's
    log likelihood, summed into the element it reads."""
    chains = next(iter(state.values())).shape[0]
    node = latent.node
    env = graph.env(state)
    prior_args = graph.args_of(node, env)
    children: dict[str, np.ndarray | None] = {}          # child -> the element each of its reads
    reading: dict[str, set[str]] = {}                      # child -> the arguments that read x
    for ref in latent.refs:
        line = graph.stochastic[ref.child].line
        if latent.size > 1 and ref.groups is None:
            raise UnsupportedModel(line, f"{ref.child} reads all of {latent.name} at once; "
                                         f"only element-wise uses like {latent.name}[j] can be sampled")
        # the elements are sampled side by side, so each child element may read only one of them
        if ref.child in children and not np.array_equal(children[ref.child], ref.groups):
            raise UnsupportedModel(line, f"{ref.child} reads two different elements of "
                                         f"{latent.name}; only one element per observation can be sampled")
        children[ref.child] = ref.groups
        reading.setdefault(ref.child, set()).add(ref.arg)
    fixed = {name: graph.args_of(graph.stochastic[name], env) for name in children}
    values = {name: graph.value_of(name, state) for name in children}
    laws = {name: REGISTRY[graph.stochastic[name].dist] for name in children}
    prior = REGISTRY[node.dist]
    needs_env = bool(graph.deterministic)

    def log_density_of(x: np.ndarray) -> np.ndarray:
        total = prior.log_prob(x, prior_args)
        trial = graph.env({**state, latent.name: x}) if needs_env else \
            {**env, latent.name: graph.val_of_state(latent.name, x)}
        for name, groups in children.items():
            child = graph.stochastic[name]
            args = dict(fixed[name])
            for key in reading[name]:
                args[key] = graph.evaluate(child.args[key], trial, child)
            terms = laws[name].log_prob(values[name], args)
            total = total + graph.group_sum(terms, latent, groups, chains)
        return np.broadcast_to(total, (chains, latent.size))

    return log_density_of


@dataclass(eq=False)
class SliceStep:
    """A slice-sampling step for one latent node (all chains and plate elements at once)."""

    graph: ModelGraph
    latent: Latent
    sampler: SliceSampler
    label: str = "slice"

    def update(self, state: dict[str, np.ndarray], rng: np.random.Generator, adapt: bool) -> None:
        target = conditional_log_density(self.graph, self.latent, state)
        state[self.latent.name] = self.sampler.step(state[self.latent.name], target, rng, adapt)


def slice_step(graph: ModelGraph, latent: Latent) -> SliceStep:
    return SliceStep(graph, latent, SliceSampler(transform_for(graph, latent)))
