"""Command-line subcommands of ``rnnscope``: each module has ``add_arguments`` and ``run``."""
