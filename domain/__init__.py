"""plantrail.domain: the treatment-plan aggregate, its events, rules and command handling.

Pure: imports only the standard library, pydantic and eventsourcing (import-linter keeps it so).
"""

if __name__ != "plantrail.domain":  # pragma: no cover - guards a misconfigured sys.path
    raise ImportError(
        "import this package as 'plantrail.domain' (pip install -e . --config-settings "
        "editable_mode=strict); a bare 'import domain' would store events under other topics"
    )
