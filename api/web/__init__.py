"""The web pages supervisors, auditors and clinicians read plans in: server-rendered HTML on the
same services, access policies, data path and access log as the HTTP API (see docs/web.md)."""
