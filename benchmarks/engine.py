"""Engine speed: character LSTM forward + backward, NumPy against PyTorch, float64.

The model is the one the issue names: one-hot input, vocabulary 65, T=25, an
LSTM of H units and a linear read-out with softmax cross-entropy (summed over
time, averaged over the batch). One iteration is one forward and one backward
(every parameter gradient) over a ``(T, B)`` batch; throughput is characters per
second, ``T * B / seconds``. The grid is H in {64, 128, 256, 512} x B in {1, 16,
64}, followed by the GRU (PyTorch's convention, ``reset_after=True``, so the two
sides compute the same thing) and the RNN at H=256, B=16, and two-layer LSTMs
(``num_layers=2`` here, ``torch.nn.LSTM(num_layers=2)`` there) at H in {128, 256} x B in
{1, 16}. The column L is the number of stacked layers.

When a Python with PyTorch is available (``--torch-python``; by default
``$RNNSCOPE_TORCH_PYTHON`` or ``/tmp/torchvenv/bin/python``) the same models in
``torch.nn.LSTM`` / ``GRU`` / ``RNN`` + ``Linear`` (float64, ``--threads``
threads, no input gradient) are timed in a *separate process*: NumPy's and
PyTorch's thread pools in one process stall each other on two cores. The two
sides take turns cell by cell (never at the same time), so both see the same
load on a shared machine; the load average is printed with the table.

GFLOP/s is nominal: the matmul work of the forward pass (input projection,
recurrent matmul, read-out) times three for forward + backward, divided by the
time. Each cell reports the best of several timing rounds (the machine is shared).

    python benchmarks/engine.py [--quick] [--json PATH] [--threads N] [--repeats N] [--torch-python PATH]

Target: ``ratio_vs_torch >= 1.0`` in every LSTM cell, ``>= 2`` at B=1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

VOCAB = 65
STEPS = 25
LSTM_HIDDEN = (64, 128, 256, 512)
LSTM_BATCH = (1, 16, 64)
OTHER_CELLS = (("gru", 256, 16, 1), ("rnn", 256, 16, 1))
STACKED_CELLS = tuple(("lstm", H, B, 2) for H in (128, 256) for B in (1, 16))
GATES = {"lstm": 4, "gru": 3, "rnn": 1}

Cell = tuple[str, int, int, int]  # (model, H, B, layers)


def cells(quick: bool) -> list[Cell]:
    """``(model, H, B, L)`` of every cell of the run."""
    hidden = (64, 256) if quick else LSTM_HIDDEN
    grid = [("lstm", H, B, 1) for H in hidden for B in LSTM_BATCH]
    stacked = [cell for cell in STACKED_CELLS if not quick or cell[1] == 256]
    return grid + list(OTHER_CELLS) + stacked


def flops_per_char(model: str, H: int, layers: int = 1) -> float:
    """Nominal matmul FLOPs of forward + backward for one character (3x the forward)."""
    gates = GATES[model]
    forward = 2 * (VOCAB * gates * H + H * gates * H + H * VOCAB)
    forward += 2 * (layers - 1) * (2 * H * gates * H)  # every further layer: input and recurrent matmuls
    return 3.0 * forward


def time_loop(step, budget: float, rounds: int) -> float:
    """Best seconds per call of ``step()`` over ``rounds`` rounds of about ``budget / rounds`` s.

    A warm-up of at least three calls and 0.1 s comes first (first-touch allocations,
    BLAS / PyTorch thread pools starting). The best round is kept: on a shared machine
    the slower rounds measure the other jobs.
    """
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < 0.1:
        step()
        calls += 1
    once = (time.perf_counter() - start) / calls
    per_round = max(1, int(budget / rounds / once))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            step()
        best = min(best, (time.perf_counter() - start) / per_round)
    return best


# --------------------------------------------------------------------------- PyTorch side
def torch_worker(threads: int, budget: float, rounds: int) -> None:
    """The PyTorch process: for each ``[model, H, B]`` line on stdin, print seconds per iteration."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print("ready", flush=True)
    for line in sys.stdin:
        model, H, B, layers = json.loads(line)
        layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[model]
        core = layer(VOCAB, H, num_layers=layers).double()
        readout = torch.nn.Linear(H, VOCAB).double()
        ids = torch.randint(0, VOCAB, (STEPS, B))
        x = torch.nn.functional.one_hot(ids, VOCAB).double()
        y = torch.randint(0, VOCAB, (STEPS, B))

        def step(core=core, readout=readout, x=x, y=y, B=B):
            features, _ = core(x)
            logits = readout(features)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, VOCAB), y.reshape(-1), reduction="sum"
            )
            (loss / B).backward()
            for p in (*core.parameters(), *readout.parameters()):
                p.grad = None

        print(json.dumps(time_loop(step, budget, rounds)), flush=True)


class TorchSide:
    """A PyTorch process that times one cell at a time, idle (threads asleep) in between."""

    def __init__(self, python: str, threads: int, budget: float, rounds: int) -> None:
        # (OpenMP's default waiting policy: its threads spin briefly after each parallel
        # region, then sleep; the pauses between the two sides let them fall asleep)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        args = [python, os.path.abspath(__file__), "--torch-worker"]
        args += ["--threads", str(threads), "--budget", str(budget), "--rounds", str(rounds)]
        self.process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self._expect("ready")

    def _expect(self, what: str) -> str:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(self.process.stderr.read().strip()[-2000:] or f"no {what} from PyTorch")
        return line.strip()

    def time(self, cell: Cell) -> float:
        self.process.stdin.write(json.dumps(list(cell)) + "\n")
        self.process.stdin.flush()
        return float(self._expect("timing"))

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def start_torch(python: str, threads: int, budget: float, rounds: int) -> TorchSide | None:
    if not python or not os.path.exists(python):
        return None
    try:
        return TorchSide(python, threads, budget, rounds)
    except (OSError, RuntimeError) as error:
        print(f"PyTorch side failed to start ({python}): {error}", file=sys.stderr)
        return None


# --------------------------------------------------------------------------- NumPy side
def time_numpy(cell: Cell, budget: float, rounds: int) -> float | None:
    import numpy as np

    from rnnscope.engine.models import ModelConfig, build_model

    model, H, B, layers = cell
    extra: dict[str, object] = {"reset_after": True} if model == "gru" else {}
    if layers > 1:
        extra["num_layers"] = layers
    net = build_model(ModelConfig(model, VOCAB, H, VOCAB, seed=0, **extra))
    rng = np.random.default_rng(0)
    x = np.eye(VOCAB)[rng.integers(0, VOCAB, (STEPS, B))]
    y = rng.integers(0, VOCAB, (STEPS, B))
    # like the PyTorch side, no gradient for the inputs
    return time_loop(lambda: net.loss_and_gradients(x, y, input_gradient=False), budget, rounds)


def run_grid(
    cell_list: list[Cell],
    torch_side: TorchSide | None,
    repeats: int,
    budget: float,
    rounds: int,
) -> tuple[list[float | None], list[float] | None]:
    """Seconds per iteration of every cell: NumPy's and (with ``torch_side``) PyTorch's.

    The two sides take turns, cell by cell, so that both see the same machine load;
    never at the same time (their thread pools would stall each other). The whole grid
    runs ``repeats`` times and each side keeps its best per cell (interference from
    other jobs on a shared machine lasts longer than one cell).
    """
    numpy_seconds: list[float | None] = [None] * len(cell_list)
    torch_seconds: list[float] | None = [float("inf")] * len(cell_list) if torch_side else None
    for _ in range(repeats):
        for k, cell in enumerate(cell_list):
            if torch_side is not None and torch_seconds is not None:
                torch_seconds[k] = min(torch_seconds[k], torch_side.time(cell))
                time.sleep(0.3)
            seconds = time_numpy(cell, budget, rounds)
            if seconds is not None:
                numpy_seconds[k] = min(numpy_seconds[k] or float("inf"), seconds)
            time.sleep(0.3)  # let OpenBLAS's threads go idle before PyTorch runs
    if torch_side is not None:
        torch_side.close()
    return numpy_seconds, torch_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="H in {64, 256} only, shorter timing")
    parser.add_argument("--json", metavar="PATH", help="write one record per cell to PATH")
    parser.add_argument("--threads", type=int, default=2, help="BLAS / PyTorch threads (default 2)")
    parser.add_argument(
        "--torch-python",
        default=os.environ.get("RNNSCOPE_TORCH_PYTHON", "/tmp/torchvenv/bin/python"),
        help="a Python with PyTorch for the comparison ('' to skip)",
    )
    parser.add_argument("--budget", type=float, default=None, help="seconds of timing per cell")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds per cell (best is kept)")
    parser.add_argument(
        "--repeats", type=int, default=1, help="run the grid N times, keep each side's best per cell"
    )
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    budget = args.budget if args.budget is not None else (0.5 if args.quick else 2.0)
    rounds = args.rounds if args.rounds is not None else (4 if args.quick else 8)

    if args.torch_worker:
        torch_worker(args.threads, budget, rounds)
        return 0

    cell_list = cells(args.quick)
    # NumPy reads the BLAS thread count when it is first imported, i.e. after this
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    load_before = os.getloadavg()[0]
    torch_side = start_torch(args.torch_python, args.threads, budget, rounds)
    numpy_seconds, torch_seconds = run_grid(cell_list, torch_side, args.repeats, budget, rounds)

    import numpy as np

    print(
        f"engine benchmark: float64, vocab {VOCAB}, T={STEPS}, forward + backward, {args.threads} threads, "
        f"best of {rounds} rounds x {args.repeats} runs; "
        f"numpy {np.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    if torch_seconds is None:
        print("PyTorch: not available (no comparison)")
    header = (
        f"{'model':<6}{'L':>2}{'H':>5}{'B':>4}  {'chars/s':>10}  {'GFLOP/s':>7}  "
        f"{'torch chars/s':>13}  {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    records = []
    for k, (model, H, B, layers) in enumerate(cell_list):
        seconds = numpy_seconds[k]
        chars = STEPS * B / seconds if seconds else None
        torch_chars = STEPS * B / torch_seconds[k] if torch_seconds else None
        ratio = chars / torch_chars if chars and torch_chars else None
        gflops = chars * flops_per_char(model, H, layers) / 1e9 if chars else None
        records.append(
            {
                "model": model,
                "layers": layers,
                "H": H,
                "B": B,
                "T": STEPS,
                "chars_per_s": chars,
                "torch_chars_per_s": torch_chars,
                "ratio_vs_torch": ratio,
                "gflops": gflops,
            }
        )

        def fmt(value, spec):
            return format(value, spec) if value is not None else "-"

        print(
            f"{model:<6}{layers:>2}{H:>5}{B:>4}  {fmt(chars, '>10,.0f')}  {fmt(gflops, '>7.2f')}  "
            f"{fmt(torch_chars, '>13,.0f')}  {fmt(ratio, '>5.2f') + ('x' if ratio else ''):>6}"
        )
    if args.json:
        from rnnscope.engine.atomic import write_atomically

        write_atomically(args.json, json.dumps(records, indent=2).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
