"""Generate ``data/toycode.txt``: small programs in a Python-like toy language.

Deterministic: the same seed and size give the same bytes (``random.Random`` only).

    python data/generators/toycode.py            # rewrites data/toycode.txt
    python data/generators/toycode.py --check    # exit 1 if the shipped file differs

The programs are not meant to run. They give a character model the structure
that makes code interesting to watch it learn: indentation that opens after a
``:`` and closes later, parentheses and brackets that must balance, names that
are defined before they are used, and ``return`` at the end of a function.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from rnnscope.engine.atomic import write_atomically

SEED = 1729
TARGET_BYTES = 40_000
OUTPUT = Path(__file__).resolve().parents[1] / "toycode.txt"
INDENT = "    "

VERBS = ["scale", "count", "merge", "clip", "sum", "find", "shift", "mix", "fold", "pack", "trim", "rank"]
NOUNS = ["points", "words", "steps", "cells", "rows", "items", "notes", "waves", "seeds", "tiles", "keys"]
LOCALS = ["total", "best", "index", "value", "width", "count", "limit", "left", "right", "score"]
LISTS = ["queue", "stack", "pool", "pair"]
LOOP_VARIABLES = ["item", "cell", "row", "key", "part"]
COMPARISONS = ["<", ">", "<=", ">=", "==", "!="]
OPERATORS = ["+", "-", "*"]


class Writer:
    """Builds one function, tracking which names are defined so far."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lines: list[str] = []
        self.names: list[str] = []

    def atom(self) -> str:
        if self.names and self.rng.random() < 0.6:
            return self.rng.choice(self.names)
        return str(self.rng.randint(0, 99))

    def expression(self, depth: int = 0) -> str:
        roll = self.rng.random()
        if depth < 2 and roll < 0.25:
            return f"({self.expression(depth + 1)} {self.rng.choice(OPERATORS)} {self.atom()})"
        if depth < 2 and roll < 0.4 and self.names:
            function = self.rng.choice(["abs", "len", "max", "min"])
            if function in ("max", "min"):
                return f"{function}({self.expression(depth + 1)}, {self.atom()})"
            return f"{function}({self.expression(depth + 1)})"
        if roll < 0.75:
            return f"{self.atom()} {self.rng.choice(OPERATORS)} {self.atom()}"
        return self.atom()

    def emit(self, depth: int, text: str) -> None:
        self.lines.append(INDENT * depth + text)

    def assignment(self, depth: int) -> None:
        name = self.rng.choice(LOCALS)
        self.emit(depth, f"{name} = {self.expression()}")
        if name not in self.names:
            self.names.append(name)

    def block(self, depth: int, statements: int) -> None:
        for _ in range(statements):
            roll = self.rng.random()
            if depth < 3 and roll < 0.2:
                variable = self.rng.choice(LOOP_VARIABLES)
                source = self.rng.choice(self.names) if self.rng.random() < 0.5 else f"range({self.atom()})"
                self.emit(depth, f"for {variable} in {source}:")
                added = variable not in self.names
                if added:
                    self.names.append(variable)
                self.block(depth + 1, self.rng.randint(1, 3))
                if added:
                    self.names.remove(variable)
            elif depth < 3 and roll < 0.4:
                comparison = self.rng.choice(COMPARISONS)
                self.emit(depth, f"if {self.atom()} {comparison} {self.expression()}:")
                self.block(depth + 1, self.rng.randint(1, 2))
                if self.rng.random() < 0.5:
                    self.emit(depth, "else:")
                    self.block(depth + 1, self.rng.randint(1, 2))
            elif roll < 0.5:
                name = self.rng.choice(LISTS)
                self.emit(depth, f"{name} = [{self.atom()}, {self.atom()}, {self.atom()}]")
                if name not in self.names:
                    self.names.append(name)
            else:
                self.assignment(depth)

    def function(self) -> str:
        name = f"{self.rng.choice(VERBS)}_{self.rng.choice(NOUNS)}"
        parameters = self.rng.sample(NOUNS + ["factor", "start", "stop"], self.rng.randint(1, 3))
        self.names = list(parameters)
        self.emit(0, f"def {name}({', '.join(parameters)}):")
        self.block(1, self.rng.randint(2, 5))
        self.emit(1, f"return {self.expression()}")
        return "\n".join(self.lines) + "\n"


def generate(seed: int = SEED, target_bytes: int = TARGET_BYTES) -> str:
    """Functions separated by blank lines until the text reaches ``target_bytes``."""
    rng = random.Random(seed)
    functions: list[str] = []
    size = 0
    while size < target_bytes:
        function = Writer(rng).function()
        functions.append(function)
        size += len(function) + 1
    return "\n".join(functions)


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
