"""Fenced code (``` and ~~~, CommonMark rules): keyword lines inside it are code, never cards."""

from __future__ import annotations

Fence = tuple[str, int]          # (fence character, length of the opening run)


def opening_fence(line: str) -> Fence | None:
    """The fence a line opens: up to three spaces, then three or more ` or ~."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or stripped[:3] not in ("```", "~~~"):
        return None
    char = stripped[0]
    run = len(stripped) - len(stripped.lstrip(char))
    if char == "`" and "`" in stripped[run:]:
        return None                  # ``` inline code ``` on one line, not a fence
    return char, run


def closes_fence(line: str, fence: Fence) -> bool:
    """Whether a line closes `fence`: the same character, at least as many, nothing after."""
    stripped = line.strip()
    char, run = fence
    return len(stripped) >= run and stripped == char * len(stripped) and len(line) - len(line.lstrip(" ")) <= 3
