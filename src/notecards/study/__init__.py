"""Studying in the browser: the engine (cards, history, FSRS scheduling, queue) behind
`notecards study`. `notecards.study.engine.Study` is the entry point; docs/history.md describes
the history format and the scheduling rules."""
