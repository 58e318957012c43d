"""Generate ``data/arithmetic.txt``: worked integer arithmetic, one statement per line.

Deterministic: the same seed and size give the same bytes (it uses only
``random.Random``, whose integer draws are stable across Python versions).

    python data/generators/arithmetic.py            # rewrites data/arithmetic.txt
    python data/generators/arithmetic.py --check    # exit 1 if the shipped file differs

The text has a small vocabulary (digits, operators, a few words) and a lot of
structure a recurrent model can learn step by step: an expression, ``=``, its
value (carries and borrows are implied by the digits), comparisons with
``true`` / ``false``, and balanced parentheses.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from rnnscope.engine.atomic import write_atomically

SEED = 20261122
TARGET_BYTES = 40_000
OUTPUT = Path(__file__).resolve().parents[1] / "arithmetic.txt"


def _number(rng: random.Random, digits: int) -> int:
    return rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10**digits - 1)


def _sum(rng: random.Random) -> str:
    a, b = _number(rng, rng.randint(1, 3)), _number(rng, rng.randint(1, 3))
    return f"{a} + {b} = {a + b}"


def _difference(rng: random.Random) -> str:
    a, b = _number(rng, rng.randint(1, 3)), _number(rng, rng.randint(1, 3))
    a, b = max(a, b), min(a, b)
    return f"{a} - {b} = {a - b}"


def _product(rng: random.Random) -> str:
    a, b = _number(rng, rng.randint(1, 2)), _number(rng, 1)
    return f"{a} * {b} = {a * b}"


def _division(rng: random.Random) -> str:
    b = rng.randint(2, 9)
    quotient = _number(rng, rng.randint(1, 2))
    remainder = rng.randint(0, b - 1)
    a = b * quotient + remainder
    if remainder:
        return f"{a} / {b} = {quotient} r {remainder}"
    return f"{a} / {b} = {quotient}"


def _bracketed(rng: random.Random) -> str:
    a, b, c = _number(rng, 1), _number(rng, 2), _number(rng, 1)
    if rng.random() < 0.5:
        return f"({a} + {b}) * {c} = {(a + b) * c}"
    return f"{c} * ({b} - {a}) = {c * (b - a)}"


def _comparison(rng: random.Random) -> str:
    a, b = _number(rng, rng.randint(1, 3)), _number(rng, rng.randint(1, 3))
    operator = rng.choice(["<", ">", "=="])
    truth = {"<": a < b, ">": a > b, "==": a == b}[operator]
    return f"{a} {operator} {b} is {'true' if truth else 'false'}"


def _chain(rng: random.Random) -> str:
    values = [_number(rng, 1) for _ in range(rng.randint(3, 5))]
    return f"{' + '.join(map(str, values))} = {sum(values)}"


MAKERS = (_sum, _sum, _difference, _product, _division, _bracketed, _comparison, _chain)


def generate(seed: int = SEED, target_bytes: int = TARGET_BYTES) -> str:
    """Lines of arithmetic until the text reaches ``target_bytes``."""
    rng = random.Random(seed)
    lines: list[str] = []
    size = 0
    while size < target_bytes:
        line = rng.choice(MAKERS)(rng)
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUTPUT} differs from the generator's output")
        return 0 if same else 1
    write_atomically(OUTPUT, text.encode("utf-8"))
    print(f"wrote {OUTPUT} ({len(text.encode('utf-8'))} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
