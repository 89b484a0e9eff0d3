#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The feed page and the console in a real browser (headless Chromium, driven by Selenium).

    web_test.py --base http://127.0.0.1:PORT --key ADMIN_KEY [--screenshots DIR]

Against a fresh `foryou demo --size small` server:
1. The feed page, as a new viewer at 40x speed: watch five cards to the end, liking the ones that carry
   the tag of the first card; then the next five cards (the page's next request) must lean toward that
   tag: at least 2 of them carry it, and more than for a control viewer who watched the same five cards
   to the end without liking (sent through the API). Viewer ids are fixed, so on the seeded demo world
   the run is reproducible. The server must hold the viewer's events (read back through the export route).
2. The profile panel names the liked tag among the viewer's two strongest topics (a liked card's other
   tag can tie with it).
3. The console: its live figures must move when events arrive, and it shows the model and the audit log.
4. Keyboard only: every step above uses keys, and every button has an accessible label.
Screenshots of both pages are written to --screenshots when given.
"""
import argparse
import json
import sys
import threading
import time
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def api(base, key, method, path, body=None, timeout=10):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("authorization", "Bearer " + key)
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def check(condition, message):
    if not condition:
        print("FAIL: " + message, file=sys.stderr)
        sys.exit(1)
    print("ok: " + message)


def current_card(driver, wait, previous=None):
    wait.until(lambda d: d.find_element(By.ID, "card").get_attribute("data-item") not in (None, "", previous))
    card = driver.find_element(By.ID, "card")
    return card.get_attribute("data-item"), (card.get_attribute("data-tags") or "").split()


def press(driver, key):
    driver.find_element(By.TAG_NAME, "body").send_keys(key)


def control_viewer(base, key, watched, target):
    """Watches the same items to the end through the API, liking none; returns how many of its next five
    cards carry the target tag."""
    viewer = "browser-control"
    events = [{"id": f"{viewer}-{n}", "user": viewer, "item": item, "type": "view", "watch_ms": duration}
              for n, (item, duration) in enumerate(watched)]
    for event in events:
        api(base, key, "POST", "/v1/events", {"events": [event]})
    cards = api(base, key, "GET", f"/v1/users/{viewer}/feed?count=5")["items"]
    return sum(target in (card.get("tags") or []) for card in cards)


def feed_page(base, key, screenshots):
    viewer = "browser-viewer"
    driver = browser(1100, 1060)
    wait = WebDriverWait(driver, 20)
    try:
        driver.get(f"{base}/?user={viewer}&speed=40#key={key}")
        for button in driver.find_elements(By.CSS_SELECTOR, "button"):
            check(bool(button.get_attribute("aria-label") or (button.get_attribute("textContent") or "").strip()), f"button {button.get_attribute('id') or button.get_attribute('textContent')} has an accessible label")
        item, tags = current_card(driver, wait)
        target = tags[0]
        print(f"first card {item}, tags {tags}: liking #{target}")
        first_five, watched, liked, previous = [], [], 0, None
        for _ in range(5):
            item, tags = current_card(driver, wait, previous)
            first_five.append(tags)
            watched.append((item, int(driver.find_element(By.ID, "card").get_attribute("data-duration"))))
            wait.until(lambda d: d.find_element(By.ID, "card").get_attribute("data-complete") == "true")
            if target in tags:
                press(driver, "l")
                liked += 1
            previous = item
            press(driver, "j")
        check(liked >= 1, f"liked {liked} of the first five cards (#{target})")
        current_card(driver, wait, previous)
        press(driver, "w")
        wait.until(lambda d: d.find_element(By.ID, "why-box").is_displayed())
        reason = driver.find_element(By.ID, "why-box").text
        check("model" in reason and len(reason.splitlines()) >= 2, "'Why this?' shows the reason and its signals: " + reason.splitlines()[0])
        if screenshots:
            time.sleep(0.5)
            driver.save_screenshot(f"{screenshots}/feed.png")
        next_five = []
        for _ in range(5):  # one request's cards: fetched when the fifth card was left, before any of these
            item, tags = current_card(driver, wait, previous)
            next_five.append(tags)
            previous = item
            time.sleep(0.2)
            press(driver, "j")
        after = sum(target in tags for tags in next_five)
        control = control_viewer(base, key, watched, target)
        print(f"#{target}: {sum(target in tags for tags in first_five)} of the first five; {after} of the next five, control {control}")
        check(after >= 2 and after > control, f"the next five cards lean toward #{target}: {after} carry it, {control} for the control viewer")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#tags li[data-name="{target}"]'))
        top = [li.get_attribute("data-name") for li in driver.find_elements(By.CSS_SELECTOR, "#tags li")][:2]
        check(target in top, f"the profile panel names #{target} among the viewer's two strongest topics ({top})")
        exported = api(base, key, "GET", f"/v1/users/{viewer}/export")
        types = [event["type"] for event in exported["events"]]
        check(types.count("view") >= 5 and types.count("like") == liked, f"the server holds the viewer's events: {types.count('view')} views, {types.count('like')} likes")
        full = [event for event in exported["events"] if event["type"] == "view"][:5]
        check(all(event["watch_ms"] > 0 for event in full), "each view carries the real watch time")
    finally:
        driver.quit()
    return viewer


def traffic(base, key, viewer, seconds):
    """Events and feed requests for a few seconds, so the console has something to show."""
    end = time.time() + seconds
    while time.time() < end:
        events = [{"id": f"load-{uuid.uuid4().hex}", "user": f"load-{n % 7}", "item": f"v{(n * 37) % 400}", "type": "view", "watch_ms": 5000} for n in range(25)]
        api(base, key, "POST", "/v1/events", {"events": events})
        api(base, key, "GET", f"/v1/users/load-{int(time.time() * 10) % 7}/feed?count=5")
        time.sleep(0.05)


def phone(base, key):
    """At a phone's width the page fits without sideways scrolling, and the buttons work by click."""
    driver = browser(390, 844)
    wait = WebDriverWait(driver, 20)
    try:
        driver.get(f"{base}/?user=phone-{uuid.uuid4().hex[:8]}&speed=40#key={key}")
        first, _ = current_card(driver, wait)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 0, f"the feed page fits a 390 px wide screen (overflow {overflow} px)")
        driver.find_element(By.ID, "next").click()
        second, _ = current_card(driver, wait, first)
        check(second != first, "the Next button moves to the next card")
        driver.find_element(By.ID, "non-profiled").click()
        wait.until(lambda d: d.find_element(By.ID, "card").get_attribute("data-item") not in (None, "", second))
        check(driver.find_element(By.CSS_SELECTOR, "#card .source").text.lower() in ("trending", "popular"),
              "the non-profiled switch shows the global order")
    finally:
        driver.quit()


def console(base, key, viewer, screenshots):
    # A trained model, so the console has one to show (a few seconds on the small demo world with the
    # debug build; more on a busy machine).
    model = api(base, key, "POST", "/v1/models/train", timeout=180)
    print(f"trained {model['model_version']}")
    driver = browser(1280, 1000)
    wait = WebDriverWait(driver, 30)
    try:
        driver.get(f"{base}/console#key={key}")
        wait.until(lambda d: int(d.find_element(By.TAG_NAME, "body").get_attribute("data-polls") or 0) >= 2)
        total = lambda: float(driver.find_element(By.ID, "tile-events-total").get_attribute("data-value"))
        start = total()
        for batch in range(3):
            events = [{"id": f"console-{uuid.uuid4().hex}", "user": viewer, "item": f"v{n}", "type": "view", "watch_ms": 1000} for n in range(20)]
            api(base, key, "POST", "/v1/events", {"events": events})
            time.sleep(0.4)
        wait.until(lambda d: total() >= start + 60)
        check(True, f"the console's event count moved from {start:.0f} to {total():.0f}")
        wait.until(lambda d: float(d.find_element(By.ID, "tile-events-rate").get_attribute("data-value") or 0) > 0 or total() >= start + 60)
        rate_history = driver.execute_script("return document.querySelector('#tile-events-rate svg path').getAttribute('d')")
        check(rate_history is not None and "L" in rate_history, "the events/s chart is drawn")
        wait.until(lambda d: "intact" in d.find_element(By.ID, "audit-status").text)
        check(True, "the audit log's status is shown: " + driver.find_element(By.ID, "audit-status").text)
        field = driver.find_element(By.ID, "lookup-user")
        field.send_keys(viewer + "\n")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".lookup-feed li"))
        check(True, f"the user lookup shows {viewer}'s next feed with reasons")
        driver.refresh()
        wait.until(lambda d: model["model_version"] in d.find_element(By.ID, "model").text)
        check(True, f"the console shows the serving model {model['model_version']} with its provenance")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#models tr[data-state="serving"]'))
        check("NDCG" in driver.find_element(By.ID, "model").text, "the serving model's validation score and the stored models are listed")
        load = threading.Thread(target=traffic, args=(base, key, viewer, 6))
        load.start()
        wait.until(lambda d: float(d.find_element(By.ID, "tile-feeds-rate").get_attribute("data-value") or 0) > 0)
        wait.until(lambda d: (d.find_element(By.ID, "tile-p50").get_attribute("data-value") or "null") not in ("", "null"))
        check(True, "feed requests/s and the feed p50 move under load: "
              + driver.find_element(By.ID, "tile-feeds-rate").get_attribute("data-value") + " req/s, p50 ≤ "
              + driver.find_element(By.ID, "tile-p50").get_attribute("data-value") + " ms")
        if screenshots:
            time.sleep(3)
            driver.execute_script("window.scrollTo(0, 0)")
            driver.save_screenshot(f"{screenshots}/console.png")
        load.join()
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--screenshots")
    arguments = parser.parse_args()
    viewer = feed_page(arguments.base, arguments.key, arguments.screenshots)
    phone(arguments.base, arguments.key)
    console(arguments.base, arguments.key, viewer, arguments.screenshots)
    print("browser test passed")


if __name__ == "__main__":
    main()
