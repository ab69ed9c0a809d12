"""Worked inference: fit a note's model to the note's data.

    fit(spec, seed, *, chains=4, draws=2000, warmup=1000, empirical_bayes=False) -> FitResult

The sampler is chosen from the model graph (`chains.build_schedule`): a collapsed block for a
normal hierarchy, conjugate Gibbs steps where they exist, slice steps for the rest. Figures for a
card: `notecards.infer.figures.fit_figures(spec, result)` and `fit_caption_html(spec, result)`.
Data from a markdown table or ```csv block of the note:
`notecards.infer.tables.parse_with_tables(sim_text, note_text, path, first_line)`.
"""

from .fit import fit
from .result import FitResult, ParamSummary

__all__ = ["fit", "FitResult", "ParamSummary"]
