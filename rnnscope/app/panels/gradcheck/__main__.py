"""``python -m rnnscope.app.panels.gradcheck``: the panel alone on a small model (see ``demo.py``)."""

from rnnscope.app.panels.gradcheck.demo import main

raise SystemExit(main())
