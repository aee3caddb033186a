"""plantrail's benchmark suite: every performance figure against a baseline measured
in the same run, on SQLite and on PostgreSQL.

Run it with ``python -m tests.benchmarks.run`` (see ``run.py`` and ``docs/performance.md``). No
module here is named ``test_*.py``: the default ``pytest`` run never collects it, and the normal
test suite asserts no speed.
"""
