"""The model stage: a card's model found (`find`), simulated or fitted with a cache and a pool of
workers (`run`); `card` makes a card's job, seeded by its identity (`model_job`: the pipeline and
`notecards sim`'s report in `notecards.sim_report` use it), and runs one card with its constants
set (`simulate_card`: the study server's sliders).

It sits above `notecards.sim` (the sim language, forward draws, their figures) and
`notecards.infer` (fits to data), because choosing between them needs both; `infer` uses
`sim`'s model and expressions, and neither imports this package. `notecards.pipeline` calls it
for the cards of a build. See docs/architecture.md.
"""
