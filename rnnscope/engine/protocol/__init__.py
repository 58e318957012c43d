"""Models of the user's own: a small public protocol, NumPy only (see ``docs/own-model.md``).

Two forms, one base (:class:`~rnnscope.engine.models.base.RecurrentModel`, the built-in
models' base), kind ``"custom"``:

* :class:`StepModel`: write ``step_forward`` / ``step_backward`` for one timestep
  (CS231n's step pairs); rnnscope loops over time, runs the read-out, the loss and
  BPTT's accumulation, and records the declared probes;
* :class:`SequenceModel`: write ``forward_core`` / ``backward_core`` over whole
  ``(T, B, D)`` sequences (min-char-rnn's shape).

Both declare their parameters (:class:`Param`: shape, initialisation, gate slices of
fused matrices) and probes (:class:`Probe`: name, kind, axes, where the value comes
from). :func:`load_model_file` loads ``path/to/my_rnn.py:MyLSTM``;
:class:`ModelFileSession` keeps one open, reloads it when it changes and says which
gradient-check rows changed; :func:`open_model_checkpoint` opens a checkpoint of one;
:func:`check_model` runs a model once against the protocol and :func:`user_code` turns
exceptions from the user's code into a :class:`UserCodeError` with the user's frames.
"""

from rnnscope.engine.protocol.arrays import ArrayTask
from rnnscope.engine.protocol.changes import StatusChange, describe_changes, status_changes
from rnnscope.engine.protocol.checkpoints import OpenedCheckpoint, open_model_checkpoint, recorded_source
from rnnscope.engine.protocol.contract import check_model, user_code
from rnnscope.engine.protocol.declarations import Param, Probe
from rnnscope.engine.protocol.errors import ModelFileError, ProtocolError, UserCodeError
from rnnscope.engine.protocol.loader import ModelFile, load_model_file, parse_spec
from rnnscope.engine.protocol.sequence import SequenceModel
from rnnscope.engine.protocol.session import ModelFileSession, Recheck
from rnnscope.engine.protocol.step import StepModel

__all__ = [
    "ArrayTask",
    "ModelFile",
    "ModelFileError",
    "ModelFileSession",
    "OpenedCheckpoint",
    "Param",
    "Probe",
    "ProtocolError",
    "Recheck",
    "SequenceModel",
    "StatusChange",
    "StepModel",
    "UserCodeError",
    "check_model",
    "describe_changes",
    "load_model_file",
    "open_model_checkpoint",
    "parse_spec",
    "recorded_source",
    "status_changes",
    "user_code",
]
