"""``rnnscope import``: a model trained in PyTorch, Keras or ONNX as an rnnscope checkpoint, proven equal.

Reads the source (see :mod:`rnnscope.engine.imports`), writes an ordinary checkpoint
(``save_checkpoint``, atomically) and, when the source holds the framework's own results on
a probe batch (``rnnscope.reference.*``), prints rnnscope's outputs and every layer's hidden
states against them. ``--verify`` reloads the written checkpoint and recomputes that
comparison from it. Exit status: 0 = imported (and equal where compared), 1 = the
comparison failed, 2 = the source cannot be imported (the message says why).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from rnnscope.commands.argtypes import EXIT_FAILED, EXIT_OK, EXIT_USAGE, positive
from rnnscope.engine import limits
from rnnscope.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnnscope.engine.heads import LOSSES
from rnnscope.engine.imports import (
    ComparisonRow,
    Imported,
    ImportOptions,
    Prefixes,
    WeightImportError,
    compare,
    import_weights,
)
from rnnscope.engine.imports.vocab import corpus_symbols, read_vocab_file, sidecar_for
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.options import size_type

EXAMPLES = """examples:
  rnnscope import char_lstm.safetensors --vocab vocab.json -o char_lstm.npz
  rnnscope import model.weights.h5 --text data/lighthouse.txt -o keras_lstm.npz --verify
  rnnscope import gru.onnx --outputs 3 --loss mse -o gru.npz
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Import an RNN / LSTM / GRU (stacked or not, with an optional embedding and linear read-out) from a\n"
        "PyTorch state_dict (.safetensors, .npz), a Keras 3 .weights.h5 or an ONNX graph, with every\n"
        "framework's gate order mapped, into an rnnscope checkpoint. Exit status: 0 = imported, 1 = the\n"
        "comparison with the framework's own outputs failed, 2 = the source cannot be imported."
    )
    parser.epilog = EXAMPLES
    parser.add_argument("source", help="the file to import (.safetensors, .npz, .weights.h5, .onnx)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="the checkpoint to write (.npz)"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="reload the written checkpoint and recompare it with the reference outputs the source holds",
    )
    names = parser.add_argument_group("where the modules are (when the names are ambiguous)")
    names.add_argument(
        "--rnn-prefix", help="PyTorch: prefix of the recurrent module's parameters, e.g. 'rnn.'"
    )
    names.add_argument("--embedding-prefix", help="PyTorch: prefix of the embedding, e.g. 'embed.'")
    names.add_argument("--readout-prefix", help="PyTorch: prefix of the nn.Linear read-out, e.g. 'fc.'")
    names.add_argument("--layer-order", help="Keras: the recurrent layers bottom first, e.g. 'lstm,lstm_1'")
    text = parser.add_argument_group("text models")
    text.add_argument(
        "--vocab",
        metavar="PATH",
        help="vocabulary: JSON list / {symbol: index} / {index: symbol}, or a .txt of the symbols in order "
        "(default: <source>.vocab.json or .vocab.txt beside the source)",
    )
    text.add_argument("--symbols", help="vocabulary given inline: its symbols in index order")
    text.add_argument(
        "--text",
        metavar="PATH",
        help="a corpus for the chars task (and, without --vocab, its sorted characters)",
    )
    model = parser.add_argument_group("what the file does not say")
    model.add_argument("--loss", choices=LOSSES, default="softmax_ce", help="loss head (default: softmax_ce)")
    model.add_argument("--many-to-one", action="store_true", help="score only the last step")
    model.add_argument(
        "--outputs", type=positive, help="outputs O of a fresh read-out when the file has none"
    )
    model.add_argument("--seed", type=size_type(limits.SEED), default=0, help="seeds a fresh read-out")


def _vocabulary(args: argparse.Namespace) -> tuple[str, ...] | None:
    if args.vocab is not None and args.symbols is not None:
        raise WeightImportError("give --vocab or --symbols, not both")
    if args.symbols is not None:
        return tuple(args.symbols)
    path = args.vocab or sidecar_for(args.source)
    if path is not None:
        return read_vocab_file(path)
    if args.text is not None:
        return corpus_symbols(args.text)
    return None


def _options(args: argparse.Namespace) -> ImportOptions:
    return ImportOptions(
        loss=args.loss,
        many_to_one=args.many_to_one,
        outputs=args.outputs,
        vocab=_vocabulary(args),
        text=args.text,
        seed=args.seed,
    )


def describe(imported: Imported) -> str:
    """One line: what was imported."""
    config, layout = imported.model.config, imported.layout
    parts = [
        f"{layout.framework} {config.kind.upper()}",
        f"{config.num_layers} layer{'s' if config.num_layers > 1 else ''} of H={config.hidden_size}",
        f"D={config.core_input_size}",
    ]
    if config.kind == "gru":
        parts.append("reset_after (PyTorch/Keras)" if config.reset_after else "reset before Wh (Cho)")
    if config.embedding_size:
        parts.append(f"embedding E ({config.input_size}, {config.embedding_size})")
    parts.append(f"read-out O={config.output_size}")
    return "imported " + ", ".join(parts) + f" ({imported.model.params.size:,} parameters)"


def print_comparison(rows: list[ComparisonRow], out: TextIO, heading: str) -> bool:
    """The comparison table; True when every row is within its tolerance."""
    print(heading, file=out)
    width = max(len(row.what) for row in rows)
    for row in rows:
        status = "ok  " if row.ok else "FAIL"
        print(
            f"  {status}  {row.what:<{width}}  {str(row.shape):<14} max |diff| {row.max_difference:.2e}"
            f"  relative {row.relative:.2e}  (tolerance {row.tolerance:.0e})",
            file=out,
        )
    return all(row.ok for row in rows)


def _compare(model: RecurrentModel, imported: Imported, out: TextIO, heading: str) -> bool:
    references = imported.layout.references
    assert references is not None
    rows = compare(model, references, imported.layout.source_dtype)
    return print_comparison(rows, out, heading)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    prefixes = Prefixes(args.rnn_prefix, args.embedding_prefix, args.readout_prefix)
    order = args.layer_order.split(",") if args.layer_order else None
    try:
        imported = import_weights(args.source, _options(args), prefixes, order)
        if args.verify and imported.layout.references is None:
            raise WeightImportError(
                f"--verify: {args.source} holds no reference outputs "
                "(rnnscope.reference.* entries) to compare with"
            )
        path = save_checkpoint(args.output, imported.model, task=imported.task)
    except (WeightImportError, CheckpointError) as error:
        print(f"rnnscope import: {error}", file=err)
        return EXIT_USAGE
    print(describe(imported), file=out)
    for note in imported.notes:
        print(f"note: {note}", file=out)
    print(f"checkpoint written to {path}", file=out)
    if imported.layout.references is None:
        return EXIT_OK
    source = os.path.basename(args.source)
    heading = f"against {imported.layout.framework}'s own results on the probe batch in {source}:"
    equal = _compare(imported.model, imported, out, heading)
    if args.verify:
        try:
            reloaded = load_checkpoint(path).model
        except CheckpointError as error:
            print(f"rnnscope import: --verify cannot reload {path}: {error}", file=err)
            return EXIT_FAILED
        equal = (
            _compare(reloaded, imported, out, f"verified again from the written checkpoint {path}:") and equal
        )
    return EXIT_OK if equal else EXIT_FAILED
