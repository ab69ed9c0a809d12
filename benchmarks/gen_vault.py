"""Generate a synthetic vault for benchmarks: notes with math, lists, tags, decks and cards.

    python benchmarks/gen_vault.py OUT_DIR [--notes 1000] [--cards-per-note 5] [--sims 0]

Deterministic: the same arguments give the same files.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

TOPICS = ["bayes", "regression", "sampling", "estimation", "testing", "probability", "linear-algebra"]


def card(rng: random.Random, i: int, j: int) -> str:
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    kind = (i + j) % 5
    if kind == 3:
        return (f"START\nCloze\nThe variance of a sum of independent terms is {{{{c1::the sum of the variances}}}}, "
                f"e.g. $\\sigma_{a}^2 + \\sigma_{b}^2$ for note {i}.\nTags: cloze\nEND\n")
    if kind == 4:
        return f"STARTI [Basic] Inline question {i}.{j}: what is ${a} \\cdot {b}$? Back: ${a * b}$ ENDI\n"
    return (
        f"START\nBasic\nQuestion {i}.{j} about [[{TOPICS[(i + j) % len(TOPICS)]}]]:\n"
        f"- why does $x_{a}$ matter?\n- and $\\mathbb{{E}}[X_{b}]$?\n\n"
        f"Back:\n"
        f"Because of the identity\n\n$$\n\\begin{{split}}\na_{a} &= b_{b} + c \\\\\n"
        f"\\operatorname{{Var}}(X) &= E[X^2] - E[X]^2 \\\\\n\\end{{split}}\n$$\n\n"
        f"- point one with `code {j}` and **bold**\n- point two #topic/{TOPICS[j % len(TOPICS)]}\n"
        f"Tags: generated t{i % 10}\nEND\n"
    )


def sim_card(i: int) -> str:
    return (
        f"START\nBasic\nSimulated model {i}: what is the variance of X?\nBack:\nThe variances add.\n\n"
        f"```sim\nlambda = {1 + i % 7}\nsigma = {1 + i % 3}\ntheta ~ Normal(0, lambda)\n"
        f"X ~ Normal(theta, sigma^2)\ncheck: var(X) ≈ lambda + sigma^2\n```\nEND\n"
    )


def generate(out: Path, notes: int, cards_per_note: int, sims: int) -> None:
    rng = random.Random(42)
    for i in range(notes):
        folder = out / f"topic{i % 10}" / f"part{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        body = [f"---\ntags: [bench, area{i % 4}]\n---\n", f"TARGET DECK: Bench::Deck{i % 8}\n\n",
                f"# Note {i}\n\nSome prose with $\\alpha_{i % 9}$ and a list:\n- one\n- two\n\n"]
        body += [card(rng, i, j) + "\n" for j in range(cards_per_note)]
        if i < sims:
            body.append(sim_card(i))
        (folder / f"note{i:05d}.md").write_text("".join(body), encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--notes", type=int, default=1000)
    p.add_argument("--cards-per-note", type=int, default=5)
    p.add_argument("--sims", type=int, default=0, help="this many notes get a card with a sim block")
    args = p.parse_args()
    generate(args.out, args.notes, args.cards_per_note, args.sims)
    print(f"wrote {args.notes} notes to {args.out}")


if __name__ == "__main__":
    main()
