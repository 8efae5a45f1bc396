"""The page in a real browser: Debian's Chromium, headless, driven by Selenium through the system's
chromedriver (nothing downloaded). It uploads a photo and reads the category and the bars from the page.

FASHION_LENS_SCREENSHOTS=1 also writes docs/web.png and docs/web-phone.png."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import REPO

webdriver = pytest.importorskip("selenium.webdriver")

SAMPLES = REPO / "resources" / "samples"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
RESULT_MS_TARGET = 400


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM or not DRIVER:
        pytest.skip("Chromium or its driver is not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    options.add_argument("--force-device-scale-factor=1")
    # Chromium's own test camera (a moving pattern) and an automatic "allow": getUserMedia without a webcam.
    options.add_argument("--use-fake-device-for-media-stream")
    options.add_argument("--use-fake-ui-for-media-stream")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, condition, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def upload(driver, path) -> float:
    """Give the page ``path`` as a picked file; the time from the pick to the result on screen (ms), as
    the page measures it (performance.now() at the input event, after the pictures are decoded)."""
    from selenium.webdriver.common.by import By

    driver.execute_script("delete document.body.dataset.resultMs")
    driver.find_element(By.ID, "file").send_keys(str(path))
    wait(driver, lambda d: d.execute_script("return document.body.dataset.resultMs"))
    return float(driver.execute_script("return document.body.dataset.resultMs"))


def test_the_page_shows_the_category_bars_and_verdicts(browser, server):
    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server.url + "/")
    wait(browser, lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]  # CSP blocks nothing of ours
    times = {}
    for name in ("sneaker.jpg", "trouser.jpg", "tshirt.jpg", "dress.jpg"):
        times[name] = upload(browser, SAMPLES / name)
        api = httpx.post(server.url + "/api/classify", files={"file": (name, (SAMPLES / name).read_bytes())}).json()
        assert browser.find_element(By.ID, "label").text == api["label"]
        assert browser.find_element(By.ID, "confidence").text == f"{100 * api['confidence']:.1f}%"
        bars = browser.find_elements(By.CSS_SELECTOR, "#bars li")
        assert len(bars) == 10
        shown = {b.find_element(By.CLASS_NAME, "name").text: b.find_element(By.CLASS_NAME, "pct").text for b in bars}
        assert shown == {label: f"{100 * p:.1f}%" for label, p in zip(server_classes(server), api["probabilities"])}
        top = browser.find_element(By.CSS_SELECTOR, "#bars li.top .name").text
        assert top == api["label"]
        blur = browser.find_element(By.ID, "blur").text
        assert blur.startswith("Blurry" if api["blur"]["blurry"] else "Sharp")
        assert browser.find_element(By.ID, "picture").get_attribute("src").startswith("data:image/jpeg")
        assert browser.find_element(By.ID, "model-input").get_attribute("src").startswith("data:image/png")
        assert not browser.find_element(By.ID, "items-box").is_displayed()  # no outfit items reported yet
    # The edges toggle, by keyboard (E) and by its checkbox.
    picture = browser.find_element(By.ID, "picture")
    with_edges = picture.get_attribute("src")
    browser.find_element(By.TAG_NAME, "body").send_keys("e")
    assert picture.get_attribute("src") != with_edges
    browser.find_element(By.ID, "edges").send_keys(Keys.SPACE)
    assert picture.get_attribute("src") == with_edges
    warm = sorted(times.values())[1:]  # the first upload also warms the page's own code up
    print(f"\nbrowser: result on screen after the pick: {', '.join(f'{n} {t:.0f} ms' for n, t in times.items())}")
    assert max(warm) <= RESULT_MS_TARGET, times
    if os.environ.get("FASHION_LENS_SCREENSHOTS"):
        upload(browser, SAMPLES / "sneaker.jpg")
        browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        browser.save_screenshot(str(REPO / "docs" / "web.png"))


def test_a_bad_file_is_said_on_the_page_and_the_next_one_works(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    wait(browser, lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes((SAMPLES / "dress.jpg").read_bytes()[:2000])
    browser.find_element(By.ID, "file").send_keys(str(bad))
    error = wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed() and d.find_element(By.ID, "error"))
    assert "damaged or incomplete" in error.text and error.get_attribute("role") == "alert"
    upload(browser, SAMPLES / "trouser.jpg")
    assert not browser.find_element(By.ID, "error").is_displayed()
    assert browser.find_element(By.ID, "label").text == "Trouser"


def test_the_page_fits_a_phone(browser, server):
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    try:
        browser.get(server.url + "/")
        wait(browser, lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
        upload(browser, SAMPLES / "dress.jpg")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        inner = browser.execute_script("return window.innerWidth")
        assert width <= inner  # nothing runs off the side of a phone's screen
        if os.environ.get("FASHION_LENS_SCREENSHOTS"):
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(390, min(height + 100, 2400))
            browser.save_screenshot(str(REPO / "docs" / "web-phone.png"))
    finally:
        browser.set_window_size(1280, 900)


GIVE = """
const [b64, name, how] = arguments;
const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const dt = new DataTransfer();
dt.items.add(new File([bytes], name, { type: "image/jpeg" }));
delete document.body.dataset.resultMs;
const event = how === "drop"
  ? new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true })
  : new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true });
document.dispatchEvent(event);
"""


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_a_dropped_or_pasted_picture_is_classified(browser, server, how):
    import base64

    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    wait(browser, lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
    data = base64.b64encode((SAMPLES / "trouser.jpg").read_bytes()).decode()
    times = []
    for _ in range(3):
        browser.execute_script(GIVE, data, "trouser.jpg", how)
        wait(browser, lambda d: d.execute_script("return document.body.dataset.resultMs"))
        times.append(float(browser.execute_script("return document.body.dataset.resultMs")))
    assert browser.find_element(By.ID, "label").text == "Trouser"
    print(f"\nbrowser: {how} to result on screen: {', '.join(f'{t:.0f}' for t in times)} ms")
    assert min(times) <= RESULT_MS_TARGET, times


def test_the_camera_takes_a_picture_and_it_is_classified(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    wait(browser, lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
    browser.find_element(By.ID, "camera-start").click()
    wait(browser, lambda d: d.find_element(By.ID, "camera").is_displayed())
    wait(browser, lambda d: d.execute_script("return document.getElementById('video').videoWidth > 0"))
    browser.find_element(By.ID, "camera-shoot").click()
    wait(browser, lambda d: d.execute_script("return document.body.dataset.resultMs"))
    assert browser.find_element(By.ID, "label").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#bars li")) == 10
    browser.find_element(By.ID, "camera-stop").click()
    assert not browser.find_element(By.ID, "camera").is_displayed()


def server_classes(server) -> list[str]:
    import httpx

    return httpx.get(server.url + "/api/model").json()["classes"]


def test_outfit_items_are_listed_when_the_answer_has_them(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    wait(browser, lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
    row = httpx_row(server)
    row["items"] = [{"label": "Trouser", "index": 1, "confidence": 0.81}, {"label": "Bag", "index": 8}]
    browser.execute_async_script("render(arguments[0]).then(arguments[1])", row)
    assert browser.find_element(By.ID, "items-box").is_displayed()
    items = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#items li")]
    assert items == ["Trouser (81%)", "Bag"]


def test_a_photo_of_an_outfit_lists_its_other_garments(browser, server):
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    wait(browser, lambda d: d.find_element(By.ID, "status").text.startswith("Ready"))
    row = httpx_row(server, "people/outfit.jpg")
    assert row["region"] and row["items"], "the segmenter finds the person's garments"
    browser.execute_async_script("render(arguments[0]).then(arguments[1])", row)
    assert browser.find_element(By.ID, "items-box").is_displayed()
    items = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#items li")]
    assert items == [f"{i['label']} ({100 * i['confidence']:.0f}%, {i['region']})" for i in row["items"]]


def httpx_row(server, name: str = "tshirt.jpg") -> dict:
    import httpx

    data = (SAMPLES / name).read_bytes()
    return httpx.post(server.url + "/api/classify?images=1", files={"file": (name, data)}).json()
