"""The checkpoint archive as a whole: reading its arrays safely, its ``meta`` header, its entries and digest.

Nothing here is unpickled: the archive is read with ``allow_pickle=False``, so
an object array is refused rather than run.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnscope.engine.checkpoint.format import (
    DIGEST,
    FORMAT_NAME,
    FORMAT_VERSION,
    META,
    OPTIMIZER,
    PARAM,
    TRAINER_POSITIONS,
    TRAINER_STATE,
    CheckpointError,
    archive_digest,
)

_ZIP_MAGIC = b"PK\x03\x04"  # every .npz starts with a zip local file header


def read_archive(path: str) -> dict[str, np.ndarray]:
    """Every array of the checkpoint at ``path``, read in full (so damaged entries fail their CRC here).

    The file must exist and be a NumPy ``.npz`` archive with ``meta`` and ``digest`` entries.
    """
    if not os.path.exists(path):
        raise CheckpointError(path, "the file does not exist")
    if not os.path.isfile(path):
        raise CheckpointError(path, "not a file")
    _check_magic(path)
    arrays = _read_arrays(path)
    for key in (META, DIGEST):
        if key not in arrays:
            raise CheckpointError(
                path,
                f"not an rnnscope checkpoint: the archive has no {key!r} entry (it has {sorted(arrays)[:8]})",
            )
    return arrays


def _check_magic(path: str) -> None:
    """The file is not empty and starts like a zip archive."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4)
    except OSError as error:
        raise CheckpointError(path, f"cannot read the file: {error.strerror or error}") from None
    if not head:
        raise CheckpointError(path, "the file is empty")
    if head != _ZIP_MAGIC:
        raise CheckpointError(path, "not an rnnscope checkpoint (not a NumPy .npz archive)")


def _read_arrays(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: np.asarray(archive[name]) for name in archive.files}
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise CheckpointError(path, f"the archive is truncated or damaged ({error})") from None
    except ValueError as error:
        # e.g. an object array: loading it would need pickle, which is never allowed
        raise CheckpointError(path, f"an entry cannot be read safely ({error})") from None
    except OSError as error:
        raise CheckpointError(path, f"cannot read the archive ({error.strerror or error})") from None


def read_meta(path: str, raw: np.ndarray) -> dict[str, Any]:
    """The ``meta`` JSON record: this format, a version this code reads, ``model`` and ``params`` records."""
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(
            path, f"the 'meta' entry must be a 1-D uint8 array, got {raw.dtype} {raw.shape}"
        )
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(path, f"the 'meta' entry is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(path, f"not an rnnscope checkpoint (its format is {found!r})")
    _check_version(path, meta.get("version"))
    for key in ("model", "params"):
        if not isinstance(meta.get(key), dict):
            raise CheckpointError(path, f"the checkpoint has no {key!r} record")
    return meta


def _check_version(path: str, version: object) -> None:
    """A positive integer no newer than :data:`FORMAT_VERSION` (every older version still loads)."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CheckpointError(path, f"the format version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            path,
            f"written with checkpoint format version {version}; this rnnscope reads up to "
            f"version {FORMAT_VERSION} (update rnnscope)",
        )


def check_entries(
    path: str,
    arrays: Mapping[str, np.ndarray],
    params: Mapping[str, np.ndarray],
    optimizer_state: Mapping[str, Any],
    trainer_state: Mapping[str, Any] | None,
) -> None:
    """Every entry of the archive was read into one of the parts (nothing unexpected is left over)."""
    expected = {META, DIGEST} | {PARAM + name for name in params}
    expected |= {OPTIMIZER + key for key, value in optimizer_state.items() if isinstance(value, np.ndarray)}
    if trainer_state is not None:
        if trainer_state.get("positions") is not None:
            expected.add(TRAINER_POSITIONS)
        expected |= {TRAINER_STATE + key for key in trainer_state.get("carried_state") or {}}
    unexpected = sorted(set(arrays) - expected)
    if unexpected:
        raise CheckpointError(path, f"unexpected entries in the archive: {unexpected}")


def check_digest(path: str, arrays: Mapping[str, np.ndarray]) -> None:
    """The recorded digest matches the contents (the file was not edited after saving)."""
    recorded = bytes(arrays[DIGEST]).decode("ascii", errors="replace")
    if recorded != archive_digest(arrays):
        raise CheckpointError(
            path, "the contents do not match the digest recorded when it was saved (the file was modified)"
        )
