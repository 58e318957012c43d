"""Loading a model class from the user's ``.py`` file, and loading it again after an edit.

``load_model_file("path/to/my_rnn.py:MyLSTM")`` imports the file as a fresh module
(its folder first on ``sys.path``, as ``python my_rnn.py`` would have it, so it can
import its neighbours) and returns a :class:`ModelFile`: the class, the file's
SHA-256 and every file to watch -- the model file and each module it imported from
its own folder. :meth:`ModelFile.changed` compares their contents;
:meth:`ModelFile.reload` imports them all afresh (the neighbours too: a module cached
from the last load would hide an edit).

Every problem is a :class:`~rnnscope.engine.protocol.errors.ModelFileError` naming the
file: no such file, a syntax error (with its line), no such class (with the models
the file does define), a class that is not a model or leaves a method out, an
exception while importing (the user's traceback only).
"""

from __future__ import annotations

import dis
import hashlib
import inspect
import itertools
import os
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.util import module_from_spec, spec_from_file_location
from types import CodeType, ModuleType

from rnnscope.engine.checkpoint.model_file import SOURCE_ATTRIBUTE, ModelSource
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import CUSTOM_KIND, MODEL_KINDS
from rnnscope.engine.protocol.errors import (
    ModelFileError,
    ProtocolError,
    is_library_file,
    user_code_error,
)

_COUNTER = itertools.count(1)
_MODULE_PREFIX = "rnnscope_model_file_"


@dataclass
class ModelFile:
    """A model class loaded from a file, and what to watch to know when it changed.

    ``path`` is absolute; ``sha256`` is the model file's; ``files`` maps every watched
    file (the model file and the neighbours it imported) to the SHA-256 of its contents.
    """

    path: str
    class_name: str
    model_class: type[RecurrentModel]
    module: ModuleType
    sha256: str
    files: dict[str, str] = field(default_factory=dict)
    neighbours: tuple[str, ...] = ()  # the names of the neighbour modules it imported

    @property
    def spec(self) -> str:
        """``"path:Class"``, as ``--model-file`` takes it."""
        return f"{self.path}:{self.class_name}"

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)

    @property
    def source(self) -> ModelSource:
        """The record a checkpoint keeps of this class (never its code)."""
        return ModelSource(self.path, self.class_name, self.sha256)

    def changed_files(self) -> list[str]:
        """The watched files whose contents differ from when this was loaded (or that are gone)."""
        return [path for path, digest in self.files.items() if file_digest(path) != digest]

    def changed(self) -> bool:
        return bool(self.changed_files())

    def reload(self) -> ModelFile:
        """The same class loaded afresh from the files as they are now (this one is left as it was)."""
        fresh = _load(self.path, self.class_name, self.neighbours)
        self.forget()
        return fresh

    def forget(self) -> None:
        """Drop this load's module from ``sys.modules`` (models made from its class keep working)."""
        if sys.modules.get(self.module.__name__) is self.module:
            del sys.modules[self.module.__name__]


def parse_spec(spec: str | os.PathLike[str]) -> tuple[str, str | None]:
    """``"dir/my_rnn.py:MyLSTM"`` -> ``("dir/my_rnn.py", "MyLSTM")``; without ``:Class``, ``None``."""
    text = os.fspath(spec)
    path, colon, name = text.rpartition(":")
    if colon and name.isidentifier() and path and not os.path.isfile(text):
        return path, name
    return text, None


def load_model_file(spec: str | os.PathLike[str], class_name: str | None = None) -> ModelFile:
    """The model class named by ``spec`` (``"path.py:Class"``, or ``path.py`` and ``class_name``).

    Without a class name the file must define exactly one model class.
    """
    path, named = parse_spec(spec)
    return _load(path, class_name or named, ())


def _load(path: str, class_name: str | None, stale: Iterable[str]) -> ModelFile:
    """Load the file; ``stale`` names neighbour modules of an earlier load, to be read afresh."""
    path = os.path.abspath(path)
    source = _read_source(path)
    code = _compile(path, source)
    module, neighbours = _execute(path, code, _imported_names(code) | set(stale))
    model_class, class_name = _find_class(path, module, class_name)
    digest = hashlib.sha256(source).hexdigest()
    setattr(model_class, SOURCE_ATTRIBUTE, ModelSource(path, class_name, digest))
    files = {path: digest}
    for file in neighbours.values():
        files[file] = file_digest(file) or ""
    return ModelFile(path, class_name, model_class, module, digest, files, tuple(sorted(neighbours)))


# ---------------------------------------------------------------------- reading and importing
def _read_source(path: str) -> bytes:
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: not a file (give the .py file that defines the model)")
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read it ({error.strerror or error})") from None


def _compile(path: str, source: bytes) -> CodeType:
    try:
        return compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        detail = "".join(traceback.format_exception_only(type(error), error)).rstrip()
        raise ModelFileError(f"{path}: the file cannot be read as Python:\n{detail}") from None


def _imported_names(code: CodeType) -> set[str]:
    """Every module name the code's ``import`` statements name (absolute imports, with their parents)."""
    names: set[str] = set()
    for instruction in dis.get_instructions(code):
        if instruction.opname == "IMPORT_NAME" and isinstance(instruction.argval, str):
            parts = instruction.argval.split(".")
            names.update(".".join(parts[: k + 1]) for k in range(len(parts)))
    for constant in code.co_consts:  # functions and classes: imports inside them too
        if isinstance(constant, CodeType):
            names |= _imported_names(constant)
    return names


def _execute(path: str, code: CodeType, candidates: set[str]) -> tuple[ModuleType, dict[str, str]]:
    """Run the compiled file as a new module; the module and the neighbours it imported (name: file).

    The neighbours among ``candidates`` are dropped from ``sys.modules`` first, so an edit of
    one since it was last imported is read; modules of other folders are left alone.
    """
    folder = os.path.dirname(path)
    _forget(folder, candidates)
    if folder in sys.path:  # first, as `python my_rnn.py` would have it: its neighbours win
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    stem = "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    name = f"{_MODULE_PREFIX}{stem}_{next(_COUNTER)}"
    spec = spec_from_file_location(name, path)
    if spec is None:
        raise ModelFileError(f"{path}: cannot be imported as a module")
    module = module_from_spec(spec)
    before = set(sys.modules)
    sys.modules[name] = module  # dataclasses and typing look their module up here
    try:
        exec(code, module.__dict__)  # running the user's own model file is the point
    except (Exception, SystemExit) as error:
        sys.modules.pop(name, None)
        _forget(folder, set(sys.modules) - before)  # half-imported neighbours are not kept
        raise _import_error(path, folder, error) from None
    names = ((set(sys.modules) - before) | candidates) - {name}
    neighbours = {key: file for key in names if (file := _neighbour_file(sys.modules.get(key), folder))}
    return module, neighbours


def _import_error(path: str, folder: str, error: BaseException) -> ModelFileError:
    if isinstance(error, SyntaxError):  # in a neighbour it imports
        detail = "".join(traceback.format_exception_only(type(error), error)).rstrip()
        return ModelFileError(f"{path}: a module it imports cannot be read as Python:\n{detail}")
    if isinstance(error, ProtocolError):  # a declaration that cannot work, found as the class was made
        lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == path]
        where = f" (line {lines[-1]})" if lines else ""
        return ModelFileError(f"{path}{where}: {error}")
    user = user_code_error(error, [folder])
    if user is None:
        return ModelFileError(f"{path}: importing it failed: {type(error).__name__}: {error}")
    return ModelFileError(f"{path}: importing it failed:\n{user.user_traceback}".rstrip())


def _neighbour_file(module: ModuleType | None, folder: str) -> str | None:
    """The file of ``module`` when it is the user's and lies in ``folder`` (or below it)."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    file = os.path.abspath(file)
    if not file.startswith(folder + os.sep) or is_library_file(file):
        return None
    return file


def _forget(folder: str, names: Iterable[str]) -> None:
    """Drop the modules ``names`` (and their submodules) from ``sys.modules`` where an import from
    ``folder`` would read another file: the user's files in ``folder`` (to read them afresh) and a
    same-named user module of another folder (``folder`` comes first on the path)."""
    names = set(names)
    prefixes = tuple(f"{name}." for name in names)
    for key in [key for key in sys.modules if key in names or key.startswith(prefixes)]:
        module = sys.modules.get(key)
        file = getattr(module, "__file__", None)
        if key.startswith(_MODULE_PREFIX) or not isinstance(file, str) or is_library_file(file):
            continue
        top = os.path.join(folder, key.split(".", 1)[0])
        if _neighbour_file(module, folder) or os.path.isdir(top) or os.path.isfile(top + ".py"):
            del sys.modules[key]


def file_digest(path: str) -> str | None:
    """The SHA-256 of the file's contents (``None`` when it cannot be read)."""
    try:
        with open(path, "rb") as stream:
            return hashlib.sha256(stream.read()).hexdigest()
    except OSError:
        return None


# ---------------------------------------------------------------------- the class
def _find_class(path: str, module: ModuleType, class_name: str | None) -> tuple[type[RecurrentModel], str]:
    models = _models_defined(module)
    if class_name is None:
        if len(models) != 1:
            found = f"it defines {', '.join(models)}" if models else "it defines no model class"
            raise ModelFileError(f"{path}: name the model class as {path}:ClassName ({found})", tuple(models))
        class_name = models[0]
    candidate = getattr(module, class_name, None)
    if candidate is None:
        found = f"its model classes are {', '.join(models)}" if models else "it defines no model class"
        raise ModelFileError(f"{path}: there is no class {class_name!r} ({found})", tuple(models))
    return _checked_class(path, class_name, candidate), class_name


def _models_defined(module: ModuleType) -> list[str]:
    """The concrete model classes defined in ``module`` itself, in order of definition."""
    return [
        name
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, RecurrentModel)
        and value.__module__ == module.__name__
        and not inspect.isabstract(value)
    ]


def _checked_class(path: str, name: str, candidate: object) -> type[RecurrentModel]:
    if not inspect.isclass(candidate) or not issubclass(candidate, RecurrentModel):
        raise ModelFileError(
            f"{path}: {name} is not a model: subclass rnnscope.engine.protocol.StepModel (a step pair) "
            "or SequenceModel (whole sequences)"
        )
    if inspect.isabstract(candidate):
        missing = ", ".join(sorted(getattr(candidate, "__abstractmethods__", ())))
        raise ModelFileError(f"{path}: {name} does not define {missing}")
    kind = getattr(candidate, "kind", None)
    if kind not in (*MODEL_KINDS, CUSTOM_KIND):
        raise ModelFileError(f"{path}: {name}.kind is {kind!r}; a model of your own has kind {CUSTOM_KIND!r}")
    return candidate
