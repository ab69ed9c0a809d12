"""The model stage: a card's model found (`find`), simulated or fitted with a cache and a pool of
workers (`run`), and reported by `notecards sim` (`report`).

It sits above `notecards.sim` (the sim language, forward draws, their figures) and
`notecards.infer` (fits to data), because choosing between them needs both; `infer` uses
`sim`'s model and expressions, and neither imports this package. See docs/architecture.md.
"""
