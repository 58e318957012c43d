"""``python -m rnnscope.app.panels.training``: the training panel on its own (see :mod:`.demo`)."""

from rnnscope.app.panels.training.demo import main

raise SystemExit(main())
