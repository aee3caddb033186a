"""plantrail.api: delivery (HTTP server and command line) over the engine and its projections."""

if __name__ != "plantrail.api":  # pragma: no cover - guards a misconfigured sys.path
    raise ImportError("import this package as 'plantrail.api', not as a bare folder")
