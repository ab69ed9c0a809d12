"""The sampler schedule and the chains that run it.

The schedule is chosen from the model graph: a collapsed block for each normal hierarchy
(τ, μ, θ), a conjugate Gibbs step for every other node that has one, a slice step for the rest,
swept in model order. All chains advance together (the state holds a (chains, size) array per
node), which is what makes a four-chain fit cost little more than one.

Starts are dispersed the way Stan does it: each chain starts every unknown at an independent
uniform draw on (−2, 2) on the node's unconstrained scale (so a positive τ starts in
(e^−2, e^2)); a Dirichlet node starts at a uniform draw on the simplex. The first sweep then moves
conjugate nodes straight into the posterior's neighbourhood, and warmup does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .collapsed import NormalHierarchy, find_normal_hierarchies
from .conjugate import conjugate_step
from .graph import ModelGraph
from .mh import slice_step, transform_for


class Step(Protocol):
    def update(self, state: dict[str, np.ndarray], rng: np.random.Generator, adapt: bool) -> None: ...


@dataclass
class Schedule:
    steps: list[Step]
    labels: dict[str, str]


def build_schedule(graph: ModelGraph) -> Schedule:
    """One step per node (or per collapsed block, at its first node), in model order, with a
    label per node. Blocks that share a node cannot both be used: the first found wins."""
    block_of: dict[str, NormalHierarchy] = {}
    for block in find_normal_hierarchies(graph):
        if not block_of.keys() & set(block.nodes):
            block_of.update(dict.fromkeys(block.nodes, block))
    steps: list[Step] = []
    labels: dict[str, str] = {}
    for name, latent in graph.latent.items():
        block = block_of.get(name)
        if block is None:
            step = conjugate_step(graph, latent) or slice_step(graph, latent)
            steps.append(step)
            labels[name] = step.label
        elif block not in steps:
            steps.append(block)
            labels.update(block.labels())
    return Schedule(steps, labels)


def initial_state(graph: ModelGraph, chains: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    state = {}
    for name, latent in graph.latent.items():
        shape = (chains, latent.size)
        if latent.node.dist == "Dirichlet":
            state[name] = rng.dirichlet(np.ones(latent.size), size=chains)
        else:
            state[name] = transform_for(graph, latent).to_x(rng.uniform(-2.0, 2.0, size=shape))
    return state


def run_chains(graph: ModelGraph, schedule: Schedule, rng: np.random.Generator, chains: int,
               draws: int, warmup: int) -> dict[str, np.ndarray]:
    """Kept draws per node, shaped (chains, draws, size)."""
    state = initial_state(graph, chains, rng)
    kept = {name: np.empty((chains, draws, latent.size)) for name, latent in graph.latent.items()}
    for iteration in range(warmup + draws):
        adapt = iteration < warmup
        for step in schedule.steps:
            step.update(state, rng, adapt)
        if not adapt:
            for name, value in state.items():
                kept[name][:, iteration - warmup] = value
    return kept
