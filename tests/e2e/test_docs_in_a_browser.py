"""/docs and /redoc in a real headless browser (Debian's chromium and chromedriver) that can resolve
no name but the server's: both render from the service's own assets, and Swagger UI's Authorize
button logs in through the token endpoint (the OAuth 2.0 password flow) and gets a token that the
API accepts.

Without chromium and chromedriver the test skips, saying so; with USERS_TEST_REQUIRE_BROWSER=1 (as in
CI, whose .ci/run installs them) it fails instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.service import ADMIN, Service, environment

pytestmark = pytest.mark.e2e

REQUIRED = os.environ.get("USERS_TEST_REQUIRE_BROWSER") == "1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT = 20  # seconds for the page to render and the login to come back


@pytest.fixture
def browser() -> Iterator[Any]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        reason = f"no browser: {', '.join(missing)} missing (apt-get install chromium chromium-driver)"
        if REQUIRED:
            pytest.fail(f"{reason}, and USERS_TEST_REQUIRE_BROWSER=1 requires one")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as Driver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1600",
        # Offline: every name but the server's fails to resolve, so a page that needs a CDN is blank.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Driver(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Service]:
    service = Service.start(tmp_path, environment())
    yield service
    service.kill()


def test_swagger_ui_renders_offline_and_its_authorize_button_gets_a_token(
    browser: Any, server: Service
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    browser.get(f"{server.base}/docs")
    title = wait.until(shown.visibility_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info .title")))
    assert "users-api" in title.text
    assert browser.find_elements(By.CSS_SELECTOR, ".opblock-tag-section"), "no operations rendered"

    browser.find_element(By.CSS_SELECTOR, ".auth-wrapper button.authorize").click()
    wait.until(shown.visibility_of_element_located((By.ID, "oauth_username"))).send_keys(ADMIN["username"])
    browser.find_element(By.ID, "oauth_password").send_keys(ADMIN["password"])
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
    # Logged in: the dialog offers to log out, and Swagger UI holds the token it was given.
    logout = (By.XPATH, "//div[@class='auth-btn-wrapper']/button[normalize-space()='Logout']")
    wait.until(shown.visibility_of_element_located(logout))
    authorized = browser.execute_script("return ui.authSelectors.authorized().toJS()")
    token = authorized["OAuth2PasswordBearer"]["token"]["access_token"]

    me = httpx.get(f"{server.base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == ADMIN["username"]
    assert "POST /api/v1/auth/token 200" in server.output()


def test_redoc_renders_offline(browser: Any, server: Service) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{server.base}/redoc")
    WebDriverWait(browser, WAIT).until(shown.text_to_be_present_in_element((By.TAG_NAME, "h1"), "users-api"))
    operations = browser.find_elements(By.CSS_SELECTOR, "[data-section-id^='operation/']")
    assert len(operations) >= 8, "the operations are not rendered"
