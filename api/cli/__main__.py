"""``python -m plantrail.api.cli``: the same as the ``plantrail`` console script."""

from plantrail.api.cli.main import run

run()
