"""``python -m rnnscope.app.panels.gradflow``: the panel alone on a small model (see ``demo.py``)."""

from rnnscope.app.panels.gradflow.demo import main

raise SystemExit(main())
