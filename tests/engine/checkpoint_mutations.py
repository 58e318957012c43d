"""A seeded generator of malformed checkpoints: every file it makes is wrong in one way.

The fuzz test (``test_checkpoint_fuzz.py``) feeds each to ``load_checkpoint``. Mutations
that change ``meta`` or an array re-record the digest, so the file gets past the digest
to the field and header checks; byte-level damage keeps the old digest. Every mutation is
chosen so that no valid checkpoint can come out of it (a value of another type, never a
plausible one of the same type; a key every checkpoint has, never an optional one).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnscope.engine.checkpoint import save_checkpoint
from rnnscope.engine.checkpoint.format import archive_digest
from rnnscope.engine.models import build_model
from rnnscope.engine.tasks import build_task
from rnnscope.engine.training import Trainer, build_optimizer

TEXT = "the cat sat on the mat. the dog sat on the log. " * 4
_PLACEHOLDER = "__rnnscope_fuzz_value__"


@dataclass
class Case:
    """One malformed file: what was done to it, and its bytes."""

    name: str
    data: bytes


# ---------------------------------------------------------------------- valid files to start from
def base_checkpoints(directory) -> list[bytes]:
    """Small valid checkpoints of every model kind, optimiser and state layout (2 iterations each)."""
    chars = build_task("chars", text=TEXT)
    copy = build_task("copy", bits=3, max_length=3)
    plans = [
        ("rnn", chars, "adagrad", {}, {}),
        ("lstm", chars, "adam", {}, {}),
        ("gru", copy, "sgd", {"momentum": 0.9}, {"reset_after": True}),
        ("dnc", chars, "rmsprop", {"momentum": 0.5}, {"memory_slots": 3, "memory_width": 2, "read_heads": 1}),
    ]
    files = []
    for index, (kind, task, optimiser, options, extra) in enumerate(plans):
        model = build_model(task.model_config(kind, 4, seed=index, **extra))
        trainer = Trainer(
            model, task, build_optimizer(optimiser, **options), batch_size=2, seq_len=3, seed=index
        )
        trainer.train(2)
        path = directory / f"base{index}.npz"
        save_checkpoint(path, model, trainer=trainer)
        files.append(path.read_bytes())
    return files


def unpack(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A checkpoint of ours (trusted) as its meta record and its other arrays."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays.pop("meta").tobytes().decode())
    arrays.pop("digest")
    return meta, arrays


def pack(meta: str | bytes | np.ndarray, arrays: dict[str, np.ndarray], digest: bool = True) -> bytes:
    """An archive of ``meta`` (JSON text, or the entry itself) and ``arrays``, with a digest unless not."""
    raw = meta.encode() if isinstance(meta, str) else meta
    entries = {"meta": raw if isinstance(raw, np.ndarray) else np.frombuffer(raw, dtype=np.uint8), **arrays}
    if digest:
        entries["digest"] = np.frombuffer(archive_digest(entries).encode("ascii"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **entries)
    return buffer.getvalue()


# ---------------------------------------------------------------------- meta mutations
# replacements never valid where a value of that type stands (JSON text, spliced in)
_NEVER = {
    int: ["true", "128.5", '"12"', "[1]", "{}", "-3", str(2**200), "null", "1" + "0" * 5000],
    float: ["true", '"1.0"', "[1.0]", "{}", "NaN", "Infinity", "-Infinity", str(2**2000)],
    str: ["5", "true", "[]", '{"a": 1}', "1.5"],
    bool: ["0", "1", '"true"', "null", "[]"],
    list: ["{}", '"abc"', "5", "true"],
    dict: ["[]", '"x"', "5", "[1]"],
}
# keys every checkpoint has (deleting an optional one would leave a valid file)
_REQUIRED = {
    (): ("format", "version", "model", "params"),
    ("model",): ("kind", "input_size", "hidden_size", "output_size"),
    ("optimizer",): ("name", "scalars"),
    ("task",): ("name",),
}
_ALL_REQUIRED = (
    ("params",),
    ("optimizer", "scalars"),
    ("trainer",),
    ("trainer", "rng"),
    ("trainer", "rng", "state"),
)


def _nodes(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _nodes(child, (*path, index))


def _parent(meta: dict, path: tuple) -> Any:
    node = meta
    for key in path[:-1]:
        node = node[key]
    return node


def _splice(meta: dict, path: tuple, text: str) -> str:
    """``meta`` as JSON with the value at ``path`` replaced by the JSON text ``text``."""
    copy = json.loads(json.dumps(meta))
    _parent(copy, path)[path[-1]] = _PLACEHOLDER
    return json.dumps(copy).replace(json.dumps(_PLACEHOLDER), text, 1)


def replace_value(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    nodes = [(p, v) for p, v in _nodes(meta) if p and v is not None and type(v) in _NEVER]
    path, value = nodes[rng.integers(len(nodes))]
    text = str(rng.choice(_NEVER[type(value)]))
    if rng.random() < 0.1:
        depth = int(rng.choice([9, 60, 3000, 100_000]))
        text = "[" * depth + "]" * depth
    return Case(f"meta {'.'.join(map(str, path))} := {text[:30]}", pack(_splice(meta, path, text), arrays))


def delete_key(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    choices = [(where, key) for where, keys in _REQUIRED.items() if _exists(meta, where) for key in keys]
    choices += [(where, key) for where in _ALL_REQUIRED if _exists(meta, where) for key in _get(meta, where)]
    choices += [(("params", name), key) for name in meta["params"] for key in ("shape", "dtype")]
    where, key = choices[rng.integers(len(choices))]
    copy = json.loads(json.dumps(meta))
    del _get(copy, where)[key]
    return Case(f"meta: delete {'.'.join((*where, key))}", pack(json.dumps(copy), arrays))


def add_key(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    dicts = [p for p, v in _nodes(meta) if isinstance(v, dict)]
    where = dicts[rng.integers(len(dicts))]
    copy = json.loads(json.dumps(meta))
    _get(copy, where)["surprise"] = 1
    return Case(f"meta: add {'.'.join(map(str, where))}.surprise", pack(json.dumps(copy), arrays))


def bad_meta_entry(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    text = json.dumps(meta)
    variants = {
        "not UTF-8": (b"\xff\xfe" + text.encode()),
        "a list": b"[1]",
        "a string": b'"checkpoint"',
        "empty": b"",
        "truncated JSON": text.encode()[: len(text) // 2],
    }
    name = list(variants)[rng.integers(len(variants))]
    if rng.random() < 0.3:  # the entry itself of the wrong type or shape
        return Case(
            "meta entry 2-D", pack(np.frombuffer(text.encode(), dtype=np.uint8).reshape(1, -1), arrays)
        )
    return Case(f"meta entry {name}", pack(variants[name], arrays))


def _exists(meta: dict, where: tuple) -> bool:
    node: Any = meta
    for key in where:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return False
        node = node[key]
    return True


def _get(meta: dict, where: tuple) -> Any:
    node: Any = meta
    for key in where:
        node = node[key]
    return node


# ---------------------------------------------------------------------- array mutations
def _pick(arrays: dict, rng: np.random.Generator, accept: Callable[[str], bool] = lambda key: True) -> str:
    keys = sorted(key for key in arrays if accept(key))
    return keys[rng.integers(len(keys))]


def wrong_dtype(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    key = _pick(arrays, rng)
    original = arrays[key]
    choices = ["float32", "float64", "int64", "int32", "complex128", "bool", "<U2", ">f8"]
    dtype = np.dtype(str(rng.choice([c for c in choices if np.dtype(c) != original.dtype])))
    changed = {**arrays, key: original.astype(dtype)}
    return Case(f"{key} as {dtype}", pack(json.dumps(meta), changed))


def wrong_shape(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    key = _pick(arrays, rng)
    original = arrays[key]
    grown = np.concatenate([original, original[:1] if len(original) else np.zeros((1, *original.shape[1:]))])
    variants = [grown, original[None], np.zeros((10**5,), dtype=original.dtype)]
    changed = {**arrays, key: variants[rng.integers(len(variants))]}
    return Case(f"{key} reshaped to {changed[key].shape}", pack(json.dumps(meta), changed))


def bad_values(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    def negative_slot(key: str) -> bool:
        return key.split("/")[1:2] in (["cache"], ["mean_square"], ["v"]) and key.startswith("optimizer/")

    floats = [k for k in arrays if arrays[k].dtype.kind == "f" and arrays[k].size]
    choices = [(k, v) for k in floats for v in (np.nan, np.inf, -np.inf)]
    choices += [(k, -1.0) for k in arrays if negative_slot(k) and arrays[k].size]
    choices += [("trainer/positions", -5)] if "trainer/positions" in arrays else []
    key, value = choices[rng.integers(len(choices))]
    changed = {**arrays, key: arrays[key].copy()}
    changed[key].reshape(-1)[rng.integers(changed[key].size)] = value
    return Case(f"{key} holds {value}", pack(json.dumps(meta), changed))


def missing_entry(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    # every entry but the text positions (which a checkpoint may lack) belongs to a required group
    key = _pick(arrays, rng, lambda k: k != "trainer/positions")
    changed = {k: v for k, v in arrays.items() if k != key}
    return Case(f"without {key}", pack(json.dumps(meta), changed))


def extra_entry(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    names = ["param/Wz", "optimizer/cache2/Wx", "trainer/state/zz", "extra", "optimizer/m/nope", "param/Wx/"]
    name = str(rng.choice(names))
    changed = {**arrays, name: np.zeros(3)}
    if rng.random() < 0.5:  # a renamed entry: one missing, one unexpected
        key = _pick(arrays, rng)
        changed = {k: v for k, v in arrays.items() if k != key} | {key + "_renamed": arrays[key]}
        name = key + "_renamed"
    return Case(f"extra entry {name}", pack(json.dumps(meta), changed))


def pickled_entry(meta: dict, arrays: dict, rng: np.random.Generator) -> Case:
    key = _pick(arrays, rng)
    entries = {**arrays, "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    entries[key] = np.array([{"payload": 1}], dtype=object)
    entries["digest"] = np.frombuffer(b"0" * 64, dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=True, **entries)
    return Case(f"{key} pickled", buffer.getvalue())


# ---------------------------------------------------------------------- archive-level damage
def truncated(data: bytes, rng: np.random.Generator) -> Case:
    cut = int(rng.integers(0, len(data)))
    return Case(f"truncated to {cut} bytes", data[:cut])


def flipped(data: bytes, rng: np.random.Generator) -> Case:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = [i for i in archive.infolist() if i.compress_size > 0]
    info = infos[rng.integers(len(infos))]
    # the data starts after the local header, whose extra field is not the central directory's
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    damaged = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        damaged[start + int(rng.integers(info.compress_size))] ^= int(rng.integers(1, 256))
    return Case(f"bytes flipped in {info.filename}", bytes(damaged))


def garbage(data: bytes, rng: np.random.Generator) -> Case:
    variants = [
        rng.bytes(int(rng.integers(1, 4096))),
        b"PK\x03\x04" + rng.bytes(200),
        _zip_of({"notes.txt": b"hello"}),
        _zip_of({"dir/": b""}),
    ]
    index = int(rng.integers(len(variants)))
    return Case(f"garbage #{index}", variants[index])


def _zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def deflate_bomb(meta: dict, arrays: dict, size: int, lie: bool) -> Case:
    """``param/Wx`` replaced by ``size`` bytes of zeros, deflated (a few kB on disk). With ``lie``, the
    zip directory declares the size the parameter should have, not what the stream inflates to."""
    header = _npy_header(arrays["param/Wx"].dtype, (size // 8,))
    stream = zlib.compressobj(9, zlib.DEFLATED, -15)
    body, crc = stream.compress(header), zlib.crc32(header)
    chunk = bytes(1 << 20)
    for _ in range(size // len(chunk)):
        body += stream.compress(chunk)
        crc = zlib.crc32(chunk, crc)
    body += stream.flush()
    declared = len(header) + size
    if lie:
        expected = arrays["param/Wx"]
        declared = len(_npy_header(expected.dtype, expected.shape)) + expected.nbytes
    others = {k: v for k, v in arrays.items() if k != "param/Wx"}
    data = _append_raw(pack(json.dumps(meta), others), "param/Wx.npy", body, crc, declared)
    return Case(f"deflate bomb of {size:,} bytes{' (lying)' if lie else ''}", data)


def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype.str, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _append_raw(data: bytes, name: str, body: bytes, crc: int, size: int) -> bytes:
    """``data`` (a zip) with one more deflated entry whose directory records ``crc`` and ``size``."""
    end = data.rindex(b"PK\x05\x06")
    count, directory_size, directory_offset = struct.unpack("<HII", data[end + 10 : end + 20])
    entries, directory = data[:directory_offset], data[directory_offset : directory_offset + directory_size]
    encoded = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), size, len(encoded), 0)
    offset = len(entries)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0,
        crc,
        len(body),
        size,
        len(encoded),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    entries += local + encoded + body
    directory += central + encoded
    tail = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(directory), len(entries), 0)
    return entries + directory + tail


def huge_declared_size(data: bytes) -> Case:
    """The zip directory claims an entry inflates to almost 4 GB (the data is the real, small one)."""
    damaged = bytearray(data)
    start = data.rindex(b"PK\x05\x06")
    directory_offset = struct.unpack("<I", data[start + 16 : start + 20])[0]
    # the first central directory record's uncompressed size field
    struct.pack_into("<I", damaged, directory_offset + 24, 0xFFFFFFF0)
    return Case("declared size of 4 GB", bytes(damaged))


# ---------------------------------------------------------------------- the stream of cases
_STRUCTURAL = [
    replace_value,
    replace_value,
    replace_value,
    delete_key,
    add_key,
    bad_meta_entry,
    wrong_dtype,
    wrong_shape,
    bad_values,
    missing_entry,
    extra_entry,
    pickled_entry,
]
_BYTES = [truncated, flipped, garbage]


def malformed(bases: list[bytes], seed: int, count: int) -> Iterator[Case]:
    """``count`` malformed files made from ``bases`` with a generator seeded with ``seed``.

    The first few are fixed (deflate bombs, a lying directory); the rest are drawn at random.
    """
    rng = np.random.default_rng(seed)
    meta, arrays = unpack(bases[0])
    yield deflate_bomb(meta, arrays, 64 * 2**20, lie=False)
    yield deflate_bomb(meta, arrays, 64 * 2**20, lie=True)
    yield huge_declared_size(bases[1])
    for _ in range(count - 3):
        data = bases[rng.integers(len(bases))]
        if rng.random() < 0.25:
            yield _BYTES[rng.integers(len(_BYTES))](data, rng)
            continue
        meta, arrays = unpack(data)
        yield _STRUCTURAL[rng.integers(len(_STRUCTURAL))](meta, arrays, rng)
