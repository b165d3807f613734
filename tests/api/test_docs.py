"""/docs (Swagger UI) and /redoc load nothing from another site: their scripts and styles are the
service's own. tests/e2e/test_docs_in_a_browser.py renders them in a real browser."""

import re

import httpx
import pytest

from tests.api.conftest import assert_problem

pytestmark = pytest.mark.parametrize("container", ["memory"], indirect=True)

_REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


def references(page: str) -> list[str]:
    return [first or second for first, second in _REFERENCES.findall(page)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_a_docs_page_loads_every_asset_from_the_service_itself(
    anonymous: httpx.AsyncClient, page: str
) -> None:
    html = await anonymous.get(page)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assets = references(html.text)
    scripts = [asset for asset in assets if asset.endswith(".js")]
    assert scripts, html.text  # the page has its script, and
    for asset in assets:
        assert asset.startswith("/docs/assets/"), asset  # nothing comes from elsewhere (no CDN, no fonts)
        served = await anonymous.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000, asset
    assert "http://" not in html.text
    assert "https://" not in html.text


async def test_swagger_ui_is_told_the_token_endpoint_s_redirect_page(anonymous: httpx.AsyncClient) -> None:
    html = (await anonymous.get("/docs")).text
    assert "'/openapi.json'" in html or '"/openapi.json"' in html
    assert (await anonymous.get("/docs/oauth2-redirect")).status_code == 200


async def test_a_missing_asset_is_a_404_problem(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/docs/assets/nothing-here.js")
    assert_problem(response, 404, "not_found")
