"""Generate a synthetic vault for benchmarks: notes with math, lists, tags, decks and cards.

    python benchmarks/gen_vault.py OUT_DIR [--notes 1000] [--cards-per-note 5] [--sims 0] [--images 0]

`--images N` adds N pictures to the vault (`media/`), alternately PNG and JPEG of random pixels:
already compressed, like the screenshots and plots of a real vault, about 90 KB (PNG) and 40 KB
(JPEG) each; note i gets a card showing pictures i, i + notes, i + 2·notes, …

Deterministic: the same arguments give the same files.
"""

from __future__ import annotations

import argparse
import io
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


IMAGE_SIDE = 176   # pixels: random RGB at this size is ~90 KB as PNG, ~40 KB as JPEG


def image_name(k: int) -> str:
    return f"img{k:05d}.{'png' if k % 2 == 0 else 'jpg'}"


def image_bytes(k: int) -> bytes:
    """Picture k: random pixels (seeded by k), which no compressor can shrink further."""
    from PIL import Image

    pixels = random.Random(k).randbytes(IMAGE_SIDE * IMAGE_SIDE * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (IMAGE_SIDE, IMAGE_SIDE), pixels).save(
        out, format="PNG" if k % 2 == 0 else "JPEG", **({} if k % 2 == 0 else {"quality": 90}))
    return out.getvalue()


def write_images(out: Path, images: int) -> None:
    folder = out / "media"
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(images):
        (folder / image_name(k)).write_bytes(image_bytes(k))


def image_card(i: int, notes: int, images: int) -> str:
    """A card of note i showing its pictures (i, i + notes, …); empty when it has none."""
    embeds = "".join(f"![[{image_name(k)}]]\n" for k in range(i, images, notes))
    return f"START\nBasic\nWhat do the pictures of note {i} show?\nBack:\n{embeds}END\n" if embeds else ""


def generate(out: Path, notes: int, cards_per_note: int, sims: int, images: int = 0) -> None:
    rng = random.Random(42)
    if images:
        write_images(out, images)
    for i in range(notes):
        folder = out / f"topic{i % 10}" / f"part{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        body = [f"---\ntags: [bench, area{i % 4}]\n---\n", f"TARGET DECK: Bench::Deck{i % 8}\n\n",
                f"# Note {i}\n\nSome prose with $\\alpha_{i % 9}$ and a list:\n- one\n- two\n\n"]
        body += [card(rng, i, j) + "\n" for j in range(cards_per_note)]
        body.append(image_card(i, notes, images))
        if i < sims:
            body.append(sim_card(i))
        (folder / f"note{i:05d}.md").write_text("".join(body), encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--notes", type=int, default=1000)
    p.add_argument("--cards-per-note", type=int, default=5)
    p.add_argument("--sims", type=int, default=0, help="this many notes get a card with a sim block")
    p.add_argument("--images", type=int, default=0, help="this many pictures, embedded in the notes' cards")
    args = p.parse_args()
    generate(args.out, args.notes, args.cards_per_note, args.sims, args.images)
    print(f"wrote {args.notes} notes to {args.out}")


if __name__ == "__main__":
    main()
