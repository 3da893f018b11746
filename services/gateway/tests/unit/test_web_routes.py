from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from smartpick_gateway.entrypoints.routes.web import mount_web


def client(web_dir) -> AsyncClient:
    app = FastAPI(docs_url=None)
    mount_web(app, web_dir)
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://gateway")


async def test_pages_say_nothing_may_load_from_elsewhere_and_hashed_assets_are_kept(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "student-abc123.js").write_text("export {}")
    (tmp_path / "student.html").write_text("<!doctype html><title>x</title>")
    async with client(tmp_path) as http:
        page = await http.get("/student")
        asset = await http.get("/assets/student-abc123.js")
    assert page.status_code == 200 and page.text.startswith("<!doctype html>")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-cache"
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_an_unbuilt_web_app_says_how_to_build_it(tmp_path):
    async with client(tmp_path / "missing") as http:
        for path in ("/", "/docs"):
            reply = await http.get(path)
            assert reply.status_code == 503 and "make web" in reply.text


async def test_the_api_docs_use_local_swagger_files(tmp_path):
    (tmp_path / "docs-assets").mkdir()
    async with client(tmp_path) as http:
        docs = await http.get("/docs")
    assert docs.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
