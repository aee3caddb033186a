"""plantrail.projections: the event store on SQL and every read model built from its events."""

if __name__ != "plantrail.projections":  # pragma: no cover - guards a misconfigured sys.path
    raise ImportError("import this package as 'plantrail.projections', not as a bare folder")
