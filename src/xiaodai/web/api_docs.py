"""``/docs``: Swagger UI for the JSON API, served from this app (the static files of the ``swagger-ui-py``
package, Swagger UI 5 — it reads OpenAPI 3.1; no CDN). Its start-up script is a static file too, so
scripts stay ``'self'``; only this page allows the inline styles Swagger UI sets on its elements."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
ASSETS = "/docs-assets"
INIT_JS = """window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
"""
PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>xiaodai API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="/docs-init.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs() -> Response:
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/docs-init.js")
def docs_init() -> Response:
    return Response(INIT_JS, media_type="text/javascript")


def install(app: FastAPI) -> None:
    import swagger_ui

    app.include_router(router)
    static = Path(swagger_ui.__file__).parent / "static"
    app.mount(ASSETS, StaticFiles(directory=str(static)), name="docs-assets")
