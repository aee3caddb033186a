"""The clinician's authoring pages: every change a clinician makes to a plan, as forms that work
without JavaScript and send each change through the API's one command path
(``PlanGateway.execute``: role rule, reach, If-Match, Idempotency-Key; docs/web.md)."""
