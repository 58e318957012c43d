"""Checkpoints: a model and its training state in one ``.npz``, written atomically, read without pickle.

One file holds, as plain arrays (no object arrays, so it loads with
``allow_pickle=False``):

=========================  ==============================================================
``meta``                   UTF-8 JSON in a ``uint8`` array: format name and version, the
                           model config, the vocabulary, the shape and dtype of every
                           parameter, the optimiser name and hyperparameters, the
                           iteration, the trainer's scalars and RNG state
                           (``bit_generator.state``), the task name and options
``digest``                 SHA-256 (hex, ``uint8``) of ``meta`` and every array below
``param/<name>``           every parameter (``Wx``, ``Wh``, ..., ``Wy``, ``by``)
``optimizer/<slot>/<p>``   the optimiser's per-parameter arrays (Adagrad's ``cache``, ...)
``trainer/positions``      ``(B,)`` where each text stream reads next (text tasks)
``trainer/state/<name>``   the state carried into the next batch (text tasks)
=========================  ==============================================================

:func:`save_checkpoint` writes the archive through :mod:`rnnscope.engine.atomic` (a
temporary file in the target's directory, fsync, ``os.replace``), so an interrupted or
failed save leaves any earlier checkpoint intact. :func:`load_checkpoint` reads a file
through one gate -- the archive's directory, then every field of ``meta`` by type,
range and name, then every array header against the shapes and dtypes the config
implies, then the data (within exactly the declared sizes), its values and the digest --
so nothing is allocated on a file's word, and raises :class:`CheckpointError` naming the
file and the field for anything else: not a regular file, not a checkpoint, truncated
or damaged, a newer format, a value of the wrong type or beyond its bounds, a missing
or unexpected entry, a declared size beyond the limits (a deflate bomb), non-finite or
negative values where they cannot be, contents edited after saving.

The modules: ``format`` (names, version, digest, :class:`Checkpoint`), ``save``,
``archive`` (the archive and its headers), ``records`` (the ``meta`` fields and the
arrays they imply) and ``load`` (the order of the gate).
"""

from __future__ import annotations

from rnnscope.engine.checkpoint.format import FORMAT_NAME, FORMAT_VERSION, Checkpoint, CheckpointError
from rnnscope.engine.checkpoint.load import load_checkpoint
from rnnscope.engine.checkpoint.save import save_checkpoint

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "load_checkpoint",
    "save_checkpoint",
]
