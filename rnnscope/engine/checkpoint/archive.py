"""The checkpoint archive: opened safely, its ``meta`` read first, its arrays only as the record declares.

Nothing here is unpickled and nothing is allocated on the archive's word: the zip
directory's sizes are bounded (:data:`~rnnscope.engine.limits.CHECKPOINT_BYTES`),
``meta`` is read within :data:`META_BYTES`, and every other entry's ``.npy``
header must declare exactly the shape and dtype the checked ``meta`` record
implies before its data is inflated (:mod:`rnnscope.engine.npz`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnscope.engine import limits
from rnnscope.engine.checkpoint.format import DIGEST, META, META_BYTES, CheckpointError, archive_digest
from rnnscope.engine.checkpoint.records import Expected
from rnnscope.engine.jsondata import JsonDataError, loads_bounded
from rnnscope.engine.npz import ArrayHeader, NpzArchive, NpzError

MAX_DEPTH = 8  # the deepest a checkpoint writes is 4 (task -> options -> vocab -> symbol)
_DIGEST_LENGTH = 64  # SHA-256 in hex
_MAX_ENTRIES = 256  # 7 parameters, 2 optimiser slots each, 9 state arrays, positions, meta, digest


def open_archive(path: str) -> NpzArchive:
    """The checkpoint at ``path``, opened: a regular ``.npz`` file with ``meta`` and ``digest`` entries
    whose declared sizes are within bounds."""
    if not os.path.lexists(path):
        raise CheckpointError(path, "the file does not exist")
    try:
        archive = NpzArchive(path, limits.CHECKPOINT_BYTES.high, _MAX_ENTRIES)
    except NpzError as error:
        raise CheckpointError(path, _worded(error.problem)) from None
    for key in (META, DIGEST):
        if key not in archive.entries:
            archive.close()
            raise CheckpointError(
                path,
                f"not an rnnscope checkpoint: the archive has no {key!r} entry "
                f"(it has {sorted(archive.entries)[:8]})",
            )
    return archive


def _worded(problem: str) -> str:
    if problem.startswith("not a NumPy"):
        return "not an rnnscope checkpoint (not a NumPy .npz archive)"
    return problem


def read_meta(path: str, archive: NpzArchive) -> tuple[np.ndarray, Any]:
    """The ``meta`` entry (a 1-D ``uint8`` array of at most :data:`META_BYTES`) and its parsed JSON,
    not yet checked."""
    header = _header(path, archive, META)
    if header.dtype != np.uint8 or len(header.shape) != 1:
        raise CheckpointError(
            path, f"the 'meta' entry must be a 1-D uint8 array, got {header.dtype} {header.shape}"
        )
    if header.nbytes > META_BYTES:
        raise CheckpointError(
            path, f"the 'meta' entry is {header.nbytes:,} bytes; at most {META_BYTES:,} are read"
        )
    raw = _read(path, archive, META, header)
    try:
        return raw, loads_bounded(raw.tobytes(), MAX_DEPTH)
    except JsonDataError as error:
        raise CheckpointError(path, f"the 'meta' entry is {error}") from None


def read_arrays(path: str, archive: NpzArchive, expected: Mapping[str, Expected]) -> dict[str, np.ndarray]:
    """``digest`` and every entry of ``expected`` present: nothing else but ``meta`` may be in the
    archive, every required entry must be, and each header must declare its expected shape and dtype."""
    unexpected = sorted(set(archive.entries) - set(expected) - {META, DIGEST})
    if unexpected:
        raise CheckpointError(path, f"unexpected entries in the archive: {unexpected[:8]}")
    for key, spec in expected.items():
        if spec.required and key not in archive.entries:
            raise CheckpointError(path, f"{spec.what} is missing from the archive")
    headers = {
        key: _checked_header(path, archive, key, spec)
        for key, spec in expected.items()
        if key in archive.entries
    }
    digest = _header(path, archive, DIGEST)
    if digest.dtype != np.uint8 or digest.shape != (_DIGEST_LENGTH,):
        raise CheckpointError(
            path, f"the 'digest' entry must be {_DIGEST_LENGTH} uint8, got {digest.dtype} {digest.shape}"
        )
    arrays = {key: _read(path, archive, key, header) for key, header in headers.items()}
    arrays[DIGEST] = _read(path, archive, DIGEST, digest)
    return arrays


def _checked_header(path: str, archive: NpzArchive, key: str, spec: Expected) -> ArrayHeader:
    header = _header(path, archive, key)
    if header.shape != spec.shape:
        raise CheckpointError(path, f"{spec.what} has shape {header.shape}, but the model needs {spec.shape}")
    if header.dtype != spec.dtype:
        raise CheckpointError(path, f"{spec.what} has dtype {header.dtype}, but the model is {spec.dtype}")
    return header


def _header(path: str, archive: NpzArchive, key: str) -> ArrayHeader:
    try:
        return archive.header(key)
    except NpzError as error:
        raise CheckpointError(path, error.problem) from None


def _read(path: str, archive: NpzArchive, key: str, header: ArrayHeader) -> np.ndarray:
    try:
        return archive.read(key, header)
    except NpzError as error:
        raise CheckpointError(path, error.problem) from None


def check_digest(path: str, arrays: Mapping[str, np.ndarray]) -> None:
    """The recorded digest matches the contents (the file was not edited after saving)."""
    recorded = bytes(arrays[DIGEST]).decode("ascii", errors="replace")
    if recorded != archive_digest(arrays):
        raise CheckpointError(
            path, "the contents do not match the digest recorded when it was saved (the file was modified)"
        )
