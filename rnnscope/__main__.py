from rnnscope.cli import main

raise SystemExit(main())
