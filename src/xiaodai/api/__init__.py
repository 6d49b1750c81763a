"""JSON API (FastAPI) with an OpenAPI schema at /docs."""
