"""notecards: an Obsidian vault becomes Anki flashcards, model cards carry worked simulations."""

__version__ = "0.1.0"
