"""FHIR R4 read interface at ``/fhir``: the plan history as CarePlan and its resources."""
