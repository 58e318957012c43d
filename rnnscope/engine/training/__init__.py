"""Training: optimisers, gradient clipping and the trainer (truncated BPTT for text).

```python
from rnnscope.engine.training import Trainer, build_optimizer

optimizer = build_optimizer("adagrad", lr=0.1)
trainer = Trainer(model, task, optimizer, batch_size=16, seq_len=25, clip_norm=5.0, seed=0)
for stats in trainer.run(1000):
    ...  # stats.loss, stats.bits_per_char, stats.grad_norm, stats.update_ratio, stats.chars_per_s
```

A diverging iteration (a non-finite loss, or one 100x the running median) changes
nothing and raises ``DivergenceError`` after the ``add_divergence_callback`` callbacks.

See ``docs/training.md``.
"""

from rnnscope.engine.training.clipping import clip_by_global_norm, clip_by_value, global_norm
from rnnscope.engine.training.divergence import (
    DEFAULT_FACTOR,
    Divergence,
    DivergenceError,
    DivergenceGuard,
    TrainingError,
)
from rnnscope.engine.training.evaluation import evaluate
from rnnscope.engine.training.optimizers import (
    OPTIMIZER_NAMES,
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    Optimizer,
    OptimizerError,
    RMSProp,
    build_optimizer,
    optimizer_defaults,
)
from rnnscope.engine.training.saved_run import SavedRun
from rnnscope.engine.training.stats import IterationStats
from rnnscope.engine.training.text_streams import TextStreams
from rnnscope.engine.training.trainer import Trainer

__all__ = [
    "DEFAULT_FACTOR",
    "OPTIMIZERS",
    "OPTIMIZER_NAMES",
    "SGD",
    "Adagrad",
    "Adam",
    "Divergence",
    "DivergenceError",
    "DivergenceGuard",
    "IterationStats",
    "Optimizer",
    "OptimizerError",
    "RMSProp",
    "SavedRun",
    "TextStreams",
    "Trainer",
    "TrainingError",
    "build_optimizer",
    "clip_by_global_norm",
    "clip_by_value",
    "evaluate",
    "global_norm",
    "optimizer_defaults",
]
