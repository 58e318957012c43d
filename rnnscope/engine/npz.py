"""Reading a NumPy ``.npz`` archive that may be hostile: headers first, data only within bounds.

``np.load`` trusts an archive: it allocates what the zip directory and each ``.npy``
header declare and inflates whatever the stream holds (a 4 MB deflate bomb cost
4 GB). :class:`NpzArchive` reads the directory and every entry's ``.npy`` header
*without* loading the data, so a caller can check the declared shapes and dtypes
first, and refuses:

- anything but a regular file (a FIFO never blocks: :mod:`rnnscope.engine.files`),
  an empty file, a file that is not a zip archive, a damaged or truncated one;
- entries that are not ``.npy`` files, repeated names, encryption, compression other
  than stored or deflate;
- declared sizes whose total is beyond the caller's bound (the number is named);
- ``.npy`` headers that do not parse, object dtypes (they would need pickle), data
  that is not as long as the header says.

:meth:`NpzArchive.read` then inflates one entry into a buffer of exactly the
declared size, counting as it goes, and checks the zip CRC. Every problem is an
:class:`NpzError` naming the entry; callers wrap it in their own error type.
"""

from __future__ import annotations

import math
import os
import tokenize
import zipfile
import zlib
from dataclasses import dataclass
from types import TracebackType
from typing import IO

import numpy as np

from rnnscope.engine.files import FileReadError, open_regular

ZIP_MAGIC = b"PK\x03\x04"  # every .npz starts with a zip local file header
_SUFFIX = ".npy"
_CHUNK = 1 << 20
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# what a damaged zip stream or a malformed .npy header raises inside zipfile and numpy
_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError)
_BAD_HEADER = (
    ValueError,
    TypeError,
    SyntaxError,
    tokenize.TokenError,  # numpy re-tokenizes headers it takes for Python 2's
    RecursionError,
    OverflowError,
    MemoryError,
    KeyError,
)


class NpzError(ValueError):
    """The archive cannot be read safely; ``problem`` says why (naming the entry)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


@dataclass(frozen=True)
class ArrayHeader:
    """What an entry's ``.npy`` header declares: shape, dtype, Fortran order, where the data starts."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    offset: int  # bytes of the magic string and header before the data

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


class NpzArchive:
    """An open ``.npz`` archive; use as a context manager. Entries are named without ``.npy``.

    ``max_bytes`` bounds the total of the sizes the zip directory declares;
    ``max_entries`` the number of entries.
    """

    def __init__(self, path: str | os.PathLike[str], max_bytes: int, max_entries: int = 10_000) -> None:
        self.path = os.fspath(path)
        try:
            self._stream: IO[bytes] = open_regular(self.path)
        except FileReadError as error:
            raise NpzError(error.reason) from None
        try:
            self._zip = self._open_zip()
            self.entries = self._list_entries(max_bytes, max_entries)
        except BaseException:
            self._stream.close()
            raise

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._stream.close()

    def _open_zip(self) -> zipfile.ZipFile:
        head = self._stream.read(len(ZIP_MAGIC))
        if not head:
            raise NpzError("the file is empty")
        if head != ZIP_MAGIC:
            raise NpzError("not a NumPy .npz archive")
        self._stream.seek(0)
        try:
            return zipfile.ZipFile(self._stream)
        except (*_DAMAGE, ValueError, OSError) as error:
            raise NpzError(f"the archive is truncated or damaged ({error})") from None

    def _list_entries(self, max_bytes: int, max_entries: int) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > max_entries:
            raise NpzError(f"the archive has {len(infos):,} entries; at most {max_entries:,} are read")
        entries: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if not name.endswith(_SUFFIX) or info.is_dir():
                raise NpzError(f"entry {name!r} is not a .npy array")
            if info.flag_bits & 0x1:
                raise NpzError(f"entry {name!r} is encrypted")
            if info.compress_type not in _COMPRESSIONS:
                raise NpzError(f"entry {name!r} uses an unsupported compression ({info.compress_type})")
            key = name[: -len(_SUFFIX)]
            if key in entries:
                raise NpzError(f"entry {key!r} appears twice")
            entries[key] = info
        declared = sum(info.file_size for info in infos)
        if declared > max_bytes:
            raise NpzError(
                f"the archive declares {declared:,} bytes uncompressed; at most {max_bytes:,} are read"
            )
        return entries

    # ------------------------------------------------------------------ one entry
    def declared_size(self, key: str) -> int:
        """Bytes the zip directory declares for entry ``key`` once inflated (header and data)."""
        return self.entries[key].file_size

    def header(self, key: str) -> ArrayHeader:
        """Entry ``key``'s ``.npy`` header, read without its data; refuses object dtypes."""
        try:
            with self._zip.open(self.entries[key]) as member:
                return self._parse_header(key, member)
        except _DAMAGE as error:
            raise NpzError(f"entry {key!r} is truncated or damaged ({error})") from None

    def _parse_header(self, key: str, member: IO[bytes]) -> ArrayHeader:
        try:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise NpzError(f"entry {key!r} has .npy format version {version}, which is not read")
        except NpzError:
            raise
        except _BAD_HEADER as error:
            raise NpzError(f"entry {key!r} has a malformed .npy header ({error})") from None
        if dtype.hasobject:
            raise NpzError(f"entry {key!r} holds Python objects, which would need pickle (never allowed)")
        header = ArrayHeader(tuple(int(n) for n in shape), dtype, bool(fortran), member.tell())
        if any(n < 0 for n in header.shape):
            raise NpzError(f"entry {key!r} declares a negative dimension {header.shape}")
        expected = header.offset + header.nbytes
        if expected != self.declared_size(key):
            raise NpzError(
                f"entry {key!r} declares {header.nbytes:,} bytes of {dtype} data {header.shape}, "
                f"but the archive holds {self.declared_size(key) - header.offset:,}"
            )
        return header

    def read(self, key: str, header: ArrayHeader | None = None) -> np.ndarray:
        """Entry ``key`` as an array (a fresh, writable one), inflating no more than its header declares."""
        header = header or self.header(key)
        if header.dtype.itemsize == 0:
            raise NpzError(f"entry {key!r} declares elements of no size ({header.dtype})")
        buffer = bytearray(header.nbytes)
        try:
            with self._zip.open(self.entries[key]) as member:
                member.read(header.offset)
                filled, extra = _fill(member, memoryview(buffer))
        except _DAMAGE as error:
            raise NpzError(f"the archive is truncated or damaged (entry {key!r}: {error})") from None
        if filled != header.nbytes or extra:
            raise NpzError(f"entry {key!r} does not hold the {header.nbytes:,} bytes its header declares")
        array = np.frombuffer(buffer, dtype=header.dtype)
        if header.fortran:
            return array.reshape(header.shape[::-1]).transpose()
        return array.reshape(header.shape)


def _fill(member: IO[bytes], view: memoryview) -> tuple[int, bool]:
    """Inflate ``member`` into ``view`` (counting, a chunk at a time); how much came, and whether more
    was left after the view was full (reading to the end also makes zipfile check the CRC)."""
    filled = 0
    while filled < len(view):
        chunk = member.read(min(_CHUNK, len(view) - filled))
        if not chunk:
            break
        view[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    return filled, bool(member.read(1))
