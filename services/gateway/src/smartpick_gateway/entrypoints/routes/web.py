"""The web app's pages and files (built by Vite into web/dist) and the API docs, all served from here:
no page loads anything from another origin, and the Content-Security-Policy says so to the browser."""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

# Page path -> the HTML file Vite built for it.
PAGES = {
    "/": "index.html",
    "/signin": "signin.html",
    "/student": "student.html",
    "/advisor": "advisor.html",
    "/mentor": "mentor.html",
    "/admin": "admin.html",
}
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
SWAGGER_DIR = "docs-assets"  # where the build copies swagger-ui-dist's files


class HashedAssets(StaticFiles):
    """Vite names every asset by its content's hash, so a browser may keep it for good."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _not_built(web_dir: Path) -> PlainTextResponse:
    return PlainTextResponse(f"The web app is not built ({web_dir} is missing): run `make web`.", status_code=503)


def mount_web(app: FastAPI, web_dir: Path) -> None:
    router = APIRouter(include_in_schema=False)

    def page(file_name: str):
        async def serve_page():
            path = web_dir / file_name
            return FileResponse(path, headers=PAGE_HEADERS) if path.is_file() else _not_built(web_dir)

        return serve_page

    for path, file_name in PAGES.items():
        router.add_api_route(path, page(file_name), methods=["GET"], name=f"page {path}")

    @router.get("/favicon.svg")
    async def favicon():
        path = web_dir / "favicon.svg"
        return FileResponse(path) if path.is_file() else _not_built(web_dir)

    @router.get("/docs")
    async def api_docs():
        if not (web_dir / SWAGGER_DIR).is_dir():
            return _not_built(web_dir)
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title}: API docs",
            swagger_js_url=f"/{SWAGGER_DIR}/swagger-ui-bundle.js",
            swagger_css_url=f"/{SWAGGER_DIR}/swagger-ui.css",
            swagger_favicon_url="/favicon.svg",
        )

    app.include_router(router)
    app.mount("/assets", HashedAssets(directory=web_dir / "assets", check_dir=False), name="assets")
    app.mount(f"/{SWAGGER_DIR}", StaticFiles(directory=web_dir / SWAGGER_DIR, check_dir=False), name=SWAGGER_DIR)
