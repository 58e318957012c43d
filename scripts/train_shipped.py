"""Train the example models shipped in ``data/models/`` with rnnscope's own Trainer (seeded).

    python scripts/train_shipped.py [--only lstm,dnc,gru] [--out data/models]

* ``lstm``: a character LSTM (H=64) on lighthouse.txt, trained on its first nine tenths;
  bits per character on the held-out tenth against the same model untrained and log2 V;
* ``dnc``: a DNC (H=64, N=16, W=8, R=2) on ``copy`` (6-bit vectors, 2 to 6 of them),
  trained for at least 2,000 iterations and then until its bit error rate on 1,024 fresh
  sequences is below 0.5 % (checked every 500);
* ``gru``: a GRU (H=64) classifying the sentiment of short sentences; accuracy on the
  test split.

Each model is written (atomically, with its optimiser's settings -- Adam, its learning
rate -- but not its moments: well under 1 MB) as a checkpoint on the task the app shows
it on, and ``quality.json`` records what was
measured; ``tests/test_shipped_models.py`` measures the files again. Every run with the
same arguments writes the same weights (seeded batches and initial weights; checked: two
runs, identical parameters). On 2 cores of an AMD EPYC the whole run takes about a minute
(lstm ~25 s, dnc ~35 s, gru ~12 s).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing

from rnnscope.app.examples import EXAMPLES, QUALITY_FILE, example, measure, text_task  # noqa: E402
from rnnscope.engine.atomic import write_atomically  # noqa: E402
from rnnscope.engine.checkpoint import save_checkpoint  # noqa: E402
from rnnscope.engine.models.base import RecurrentModel  # noqa: E402
from rnnscope.engine.models.registry import build_model  # noqa: E402
from rnnscope.engine.tasks import Task, build_task, uniform_bits_per_character  # noqa: E402
from rnnscope.engine.training import Trainer, build_optimizer  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "data" / "models"
SEED = 0
TARGET_BIT_ERROR = 0.005
LEARNING_RATE = 3e-3  # Adam, for all three


def train_lstm(log: Callable[[str], None]) -> tuple[RecurrentModel, Task, dict[str, float]]:
    shown = text_task("all")
    config = shown.model_config("lstm", 64, seed=SEED)
    untrained = measure("lstm", build_model(config))["valid_bits_per_char"]
    model = build_model(config)
    trainer = Trainer(
        model,
        text_task("train"),
        build_optimizer("adam", lr=LEARNING_RATE),
        batch_size=32,
        seq_len=50,
        seed=SEED,
    )
    for stats in trainer.run(1500):
        if stats.iteration % 500 == 0:
            log(f"lstm {stats.iteration}: train bpc {stats.bits_per_char:.3f}")
    quality = measure("lstm", model)
    quality.update(
        untrained_valid_bits_per_char=untrained,
        uniform_bits_per_char=uniform_bits_per_character(shown.output_size),
        iterations=trainer.iteration,
    )
    return model, shown, quality


def train_dnc(log: Callable[[str], None]) -> tuple[RecurrentModel, Task, dict[str, float]]:
    task = build_task("copy")
    config = task.model_config("dnc", 64, seed=SEED, memory_slots=16, memory_width=8, read_heads=2)
    model = build_model(config)
    trainer = Trainer(
        model, task, build_optimizer("adam", lr=LEARNING_RATE), batch_size=16, clip_norm=10.0, seed=SEED
    )
    quality = measure("dnc", model)
    while trainer.iteration < 12_000:  # at least 2,000 iterations, then until the target is met
        trainer.train(500)
        quality = measure("dnc", model)
        log(f"dnc {trainer.iteration}: bit error rate {quality['bit_error_rate']:.4%}")
        if quality["bit_error_rate"] < TARGET_BIT_ERROR and trainer.iteration >= 2000:
            break
    quality["iterations"] = trainer.iteration
    return model, task, quality


def train_gru(log: Callable[[str], None]) -> tuple[RecurrentModel, Task, dict[str, float]]:
    task = build_task("sentiment", split="all")
    config = task.model_config("gru", 64, seed=SEED)
    model = build_model(config)
    trainer = Trainer(
        model, build_task("sentiment", split="train"), build_optimizer("adam", lr=LEARNING_RATE), seed=SEED
    )
    for stats in trainer.run(1500):
        if stats.iteration % 250 == 0:
            log(f"gru {stats.iteration}: train loss {stats.loss_per_step:.3f}")
    quality = measure("gru", model)
    quality.update(chance_accuracy=0.5, iterations=trainer.iteration)
    return model, task, quality


TRAINERS = {"lstm": train_lstm, "dnc": train_dnc, "gru": train_gru}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(TRAINERS), help="comma-separated: lstm,dnc,gru")
    parser.add_argument("--out", default=str(OUT), help="folder to write (default: data/models)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record_path = out / QUALITY_FILE
    record = json.loads(record_path.read_text("utf-8")) if record_path.is_file() else {}
    keys = [key.strip() for key in args.only.split(",") if key.strip()]
    for key in keys:
        if key not in TRAINERS:
            parser.error(f"unknown model {key!r}; choose from {sorted(TRAINERS)}")
    for key in keys:
        started = time.perf_counter()
        model, task, quality = TRAINERS[key](lambda text: print(text, flush=True))
        # the optimiser's settings without its moments (they would triple the file): Start in the
        # training panel goes on with Adam at this rate, fresh moments, rather than a default optimiser
        optimizer = build_optimizer("adam", lr=LEARNING_RATE)
        path = save_checkpoint(
            out / example(key).file, model, optimizer, task=task, iteration=int(quality["iterations"])
        )
        quality["train_seconds"] = round(time.perf_counter() - started, 1)
        quality["bytes"] = os.path.getsize(path)
        record[key] = {
            name: round(value, 6) if isinstance(value, float) else value for name, value in quality.items()
        }
        print(json.dumps({key: record[key]}), flush=True)
    ordered = {e.key: record[e.key] for e in EXAMPLES if e.key in record}
    write_atomically(record_path, (json.dumps(ordered, indent=2) + "\n").encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
