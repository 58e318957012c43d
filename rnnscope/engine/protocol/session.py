"""One model file kept open while its author edits it: load, reload when saved, recheck, say what changed.

:class:`ModelFileSession` is everything the app's file watcher and *File > Open model
file...* need, without Qt::

    session = ModelFileSession("my_rnn.py:MyLSTM")
    session.open()                                   # ModelFileError: missing, syntax, no class...
    model = session.new_model(config)
    first = session.check(model, inputs, targets)    # first.message: "checked: Wh fail, ..."
    ...                                              # the user saves the file
    if session.reload_if_changed():                  # the file or a neighbour it imports changed
        model, notes = session.model_like(model)     # the new class, the same weights if they fit
        again = session.check(model, inputs, targets)
        again.message                                # "Wh: fail -> ok, Wh[forget]: fail -> ok"

A reload that fails (a syntax error half-way through typing) keeps the last good class
and sets :attr:`ModelFileSession.error`; the next save is tried again. A check that
fails in the user's code returns its trimmed traceback as the error rather than raising.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnscope.engine.gradcheck import GradcheckResult, check_gradients
from rnnscope.engine.models.base import RecurrentModel, State
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.params import Params
from rnnscope.engine.protocol.changes import StatusChange, describe_changes, status_changes
from rnnscope.engine.protocol.contract import check_model, user_code
from rnnscope.engine.protocol.errors import ModelFileError, ProtocolError, UserCodeError
from rnnscope.engine.protocol.loader import ModelFile, file_digest, load_model_file, parse_spec


@dataclass
class Recheck:
    """One gradient check in a session: its result (``None`` if it could not run), the rows whose
    status changed since the previous check, and the status line to show."""

    result: GradcheckResult | None
    changes: list[StatusChange] = field(default_factory=list)
    message: str = ""
    error: str | None = None


class ModelFileSession:
    """A model file kept open: the last class that loaded, the last error, the last check."""

    def __init__(self, spec: str | os.PathLike[str]) -> None:
        path, class_name = parse_spec(spec)
        self.path = os.path.abspath(path)
        self.class_name = class_name
        self.model_file: ModelFile | None = None
        self.error: str | None = None  # the last load or check problem (None after a success)
        self.last_result: GradcheckResult | None = None
        self._seen: dict[str, str | None] = {}  # every watched file's digest at the last attempt

    # ----------------------------------------------------------------- loading
    def open(self) -> ModelFile:
        """Load the file (again); raises :class:`ModelFileError` and keeps the last good class."""
        self._remember_attempt()
        try:
            if self.model_file is None:
                loaded = load_model_file(self.path, self.class_name)
            else:  # its neighbours (and theirs) are read afresh too
                loaded = self.model_file.reload()
        except ModelFileError as error:
            self.error = str(error)
            raise
        self.model_file, self.class_name, self.error = loaded, loaded.class_name, None
        self._remember_attempt()
        return loaded

    @property
    def model_class(self) -> type[RecurrentModel]:
        if self.model_file is None:
            raise ModelFileError(f"{self.path}: not loaded yet ({self.error or 'call open() first'})")
        return self.model_file.model_class

    @property
    def watched_files(self) -> list[str]:
        """The model file and the neighbours it imported (at the last successful load)."""
        return sorted(self._seen)

    def changed(self) -> bool:
        """Whether a watched file differs from what the last load attempt read."""
        return any(file_digest(path) != digest for path, digest in self._seen.items())

    def reload_if_changed(self) -> bool:
        """Reload when a watched file changed: True if a reload was tried (see :attr:`error`)."""
        if not self.changed():
            return False
        try:
            self.open()
        except ModelFileError:
            pass  # self.error says why; the last good class stays
        return True

    def _remember_attempt(self) -> None:
        files = set(self.model_file.files) if self.model_file is not None else set()
        self._seen = {path: file_digest(path) for path in files | {self.path}}

    # ----------------------------------------------------------------- models
    def new_model(self, config: ModelConfig, params: Params | None = None) -> RecurrentModel:
        """A model of the current class (``config.kind`` set to the class's kind)."""
        cls = self.model_class
        if config.kind != cls.kind:
            config = ModelConfig.from_dict({**config.to_dict(), "kind": cls.kind})
        with user_code([os.path.dirname(self.path)]):
            return cls(config, params)

    def model_like(self, model: RecurrentModel) -> tuple[RecurrentModel, list[str]]:
        """``model``'s config and weights in the current class; fresh weights (with a note) when
        the parameters the class declares no longer fit them."""
        try:
            return self.new_model(model.config, model.params.copy()), []
        except ValueError as error:  # a parameter added, removed or reshaped
            return self.new_model(model.config), [f"fresh weights: {error}"]

    # ----------------------------------------------------------------- checking
    def check(
        self,
        model: RecurrentModel,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray | None = None,
        state: State | None = None,
        **settings: Any,
    ) -> Recheck:
        """Check ``model``'s gradients (``settings``: :class:`~rnnscope.engine.gradcheck.CheckOptions`
        fields); what changed since the last check of this session is in the result's ``message``."""
        try:
            with user_code([os.path.dirname(self.path)]):
                check_model(model, inputs, targets, mask, state)
                result = check_gradients(model, inputs, targets, mask, state, **settings)
        except (UserCodeError, ProtocolError, ValueError) as error:
            self.error = str(error)
            return Recheck(None, [], f"check failed: {error}", str(error))
        before, self.last_result, self.error = self.last_result, result, None
        changes = status_changes(before, result)
        if before is None:
            failing = [row.name for row in result.all_rows() if row.failed]
            message = f"checked: {'fail in ' + ', '.join(failing) if failing else 'no row fails'}"
        else:
            message = describe_changes(changes)
        return Recheck(result, changes, message)
