"""The distributions a note may name, in the notes' own parameterisations (the table in docs/simulations.md).

Each `Distribution` (in `base`; the laws in `continuous` and `discrete`, by name in `registry`)
knows its canonical argument names (Normal takes mean and **variance**,
Gamma shape and **rate** …), the keyword alternatives a note may use instead (`sd=`, `prec=`,
`scale=`), which values each argument may take, how to draw from it with a numpy Generator
(vectorised: arguments broadcast against the requested size), and the equivalent frozen
scipy.stats distribution, which the tests and the closed-form figure overlays use, and — for the
laws a fit can handle — its log density (`log_prob`), which `notecards.infer` evaluates.

Keyword alternatives are rewritten into the canonical argument as an expression at parse time
(`sd=s` becomes `var = s^2`), so every consumer of a `Node` sees one parameterisation.

Choices: Categorical draws are categories 1..K (the notes index from 1); Bernoulli, Binomial,
Poisson and Categorical draws are stored as floats so they mix freely with other values;
StudentT's loc/scale default to 0/1, Cauchy's to 0/1, HalfCauchy's scale to 1, Uniform's
bounds to 0/1.
"""

from notecards.sim.distributions.base import Args, Distribution, Param, support_violation
from notecards.sim.distributions.continuous import scaled_inv_chi2_as_inverse_gamma
from notecards.sim.distributions.registry import (REGISTRY, TYPICAL_BY_SUPPORT, TYPICAL_VALUES, lookup, resolve_args,
                                                  typical_value)

__all__ = ["Args", "Distribution", "Param", "REGISTRY", "TYPICAL_BY_SUPPORT", "TYPICAL_VALUES", "lookup",
           "resolve_args", "scaled_inv_chi2_as_inverse_gamma", "support_violation", "typical_value"]
