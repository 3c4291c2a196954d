"""The browsable API in a real browser: headless Chromium driven by Selenium (Debian's
chromium, chromium-driver and python3-selenium). Reads the response block as a person sees
it, follows a link, pages through a list, and saves screenshots under build/test-output/."""

import json
import os
import shutil

import pytest

import helpers

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

OUTPUT = os.path.join(helpers.REPO, "build", "test-output")
REAL = helpers.read_jsonl(os.path.join(helpers.DATA, "real-packages.jsonl"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("chromium and chromium-driver are needed (scripts/install-deps test)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        opts.add_argument(arg)
    service = Service(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=opts, service=service)
    driver.set_page_load_timeout(20)
    os.makedirs(OUTPUT, exist_ok=True)
    yield driver
    driver.quit()


def test_package_page_link_and_pages(browser, real_server):
    rec = next(r for r in REAL if r["request"].endswith("?format=api"))
    path = rec["request"].split(" ", 1)[1]
    base = f"http://127.0.0.1:{real_server.port}"
    browser.get(base + path)
    block = browser.find_element(By.CSS_SELECTOR, "div.response pre").text
    expected = (f"GET {path}\nHTTP 200 OK\nAllow: GET, HEAD, OPTIONS\nContent-Type: application/json\n"
                f"Vary: Accept\n\n"
                + json.dumps(rec["json"], ensure_ascii=False, indent=4, separators=(",", ": ")))
    assert block == expected
    assert browser.find_element(By.TAG_NAME, "h1").text == "Package Instance"
    browser.save_screenshot(os.path.join(OUTPUT, "package.png"))

    # The category link is absolute under PkgIndexBaseURL: follow it on this server instead.
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "/categories/")
    href = link.get_attribute("href")
    assert href == rec["json"]["category"]
    browser.get(base + href.split("djangopackages.org", 1)[1])
    assert browser.find_element(By.TAG_NAME, "h1").text == "Category Instance"
    assert '"title_plural": ' in browser.find_element(By.CSS_SELECTOR, "div.response pre").text


def test_list_controls(browser, conformance_server):
    # Links are absolute under https://djangopackages.org here: check them, then open them here.
    base = f"http://127.0.0.1:{conformance_server.port}"
    browser.get(base + "/api/v4/packages/?format=api&limit=10")
    seen = []
    for _ in range(5):
        body = json.loads(browser.find_element(By.CSS_SELECTOR, "div.response pre").text.split("\n\n", 1)[1])
        seen += [p["id"] for p in body["results"]]
        nexts = browser.find_elements(By.CSS_SELECTOR, "nav a[rel=next]")
        if not nexts:
            break
        browser.get(base + nexts[0].get_attribute("href").split("djangopackages.org", 1)[1])
    assert len(seen) == 45 and seen == sorted(seen, reverse=True)
    assert browser.find_element(By.CSS_SELECTOR, "nav .current").text == "5"
    browser.save_screenshot(os.path.join(OUTPUT, "list.png"))
    browser.find_element(By.CSS_SELECTOR, ".bar summary").click()  # OPTIONS
    assert "Package List" in browser.find_element(By.CSS_SELECTOR, "details.options pre").text
    browser.find_element(By.CSS_SELECTOR, "a.format").click()
    assert json.loads(browser.find_element(By.TAG_NAME, "body").text)["count"] == 45


def test_clicking_through(browser, multi_server):
    """Links from the Host header point at this server: click them like a person would."""
    base = f"http://127.0.0.1:{multi_server.port}"
    browser.get(base + "/api/v4/packages/1/?format=api")
    browser.find_element(By.PARTIAL_LINK_TEXT, "/categories/1/").click()
    assert browser.current_url == base + "/api/v4/categories/1/?format=api"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Category Instance"
    browser.get(base + "/api/v4/grids/?format=api&limit=2")
    pages = []
    while True:
        pages.append(browser.find_element(By.CSS_SELECTOR, "nav .current").text)
        nexts = browser.find_elements(By.CSS_SELECTOR, "nav a[rel=next]")
        if not nexts:
            break
        nexts[0].click()
    assert pages == ["1", "2", "3"]
    browser.find_element(By.CSS_SELECTOR, "nav a[rel=prev]").click()
    assert browser.find_element(By.CSS_SELECTOR, "nav .current").text == "2"
    browser.save_screenshot(os.path.join(OUTPUT, "grids.png"))


def test_search_box(browser, real_server):
    """Type a query into the search page's box, submit, read the results, follow one."""
    from selenium.webdriver.common.keys import Keys
    base = f"http://127.0.0.1:{real_server.port}"
    browser.get(base + "/api/v4/search/?format=api")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Search V3 List"
    box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.send_keys("galery")  # a typo
    box.send_keys(Keys.RETURN)
    # the submitted page, not the one the box was on (a loaded machine is slow to navigate)
    WebDriverWait(browser, 10).until(lambda b: "q=galery" in b.current_url)
    block = browser.find_element(By.CSS_SELECTOR, "div.response pre").text
    assert block.startswith("GET /api/v4/search/?q=galery&format=api\nHTTP 200 OK\n")
    results = json.loads(block.split("\n\n", 1)[1])
    # what the API answers for the query (each driver's search finds the typo's gallery)
    assert "gnocchi-gallery" in {r["title"] for r in results}
    assert results == json.loads(real_server.request("GET", "/api/v4/search/?q=galery").body)
    assert browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]").get_attribute("value") == "galery"
    browser.save_screenshot(os.path.join(OUTPUT, "search.png"))
    browser.find_element(By.CSS_SELECTOR, "a.format").click()
    assert json.loads(browser.find_element(By.TAG_NAME, "body").text) == results
