"""DRF glue shared by every API app, one concern a module.

authentication (Bearer tokens), parsers (JSON and the original's bracket forms), negotiation (always JSON),
errors (Laravel's error shapes and the exception handler), pagination (Laravel's paginator), fields (the
representation's scalar types), http (ETag, If-Match, method override) and schema (OpenAPI pieces).
Apps import these leaf modules; none of them imports an app.
"""
