"""End to end: the real app (`streamlit run`) in headless Chromium via Playwright — every page opens, a warning is
issued, screenshots are saved, and the time of each page's first visit and of each interaction is recorded
(:func:`walk`; ``benchmarks/bench_pages.py`` runs the same walk on the prepared demo). Skipped, with the reason, where
the machine has no Chromium (`.ci/run` installs Debian's chromium and fonts-noto-cjk)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from response import audit

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (CI installs Debian's)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(env: dict, *, timeout: float = 60, unset=()):
    """The app as ``make run`` serves it (``python app.py``: ``streamlit run app.py`` with the pages imported and the
    inputs loaded as the server starts, :mod:`ui.warm`) on a free loopback port with ``env`` added (and the
    variables ``unset`` removed): ``(process, url)`` once healthy."""
    port = free_port()
    full = {k: v for k, v in {**os.environ, **env}.items() if k not in unset}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--server.port",
                             str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not start")


@pytest.fixture()
def server(winter_world, winter_model, tmp_path):
    db = tmp_path / "audit.db"
    try:
        proc, url = start_app({"LANTIAN_DATA": str(winter_world), "LANTIAN_MODEL": str(winter_model),
                               "LANTIAN_AUDIT": str(db), "LANTIAN_ACCOUNTS": str(ROOT / "config" / "accounts.yaml")})
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield url, db
    proc.terminate()
    proc.wait(20)


#: the consultation's charts: SVG images (response.charts), no chart library on its first screen
SVG_CHART = "img[src^='data:image/svg+xml']"
#: true once the page's content is drawn, not only sent: every image loaded and decoded (the charts), every visible
#: table's grid drawn (Streamlit draws a table on a canvas once its grid library has loaded; a table in a closed
#: expander is not drawn until opened)
CONTENT_DRAWN = """() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)
    && Array.from(document.querySelectorAll("[data-testid='stDataFrame']"))
           .filter(d => d.offsetParent !== null && !d.closest('details:not([open])'))
           .every(d => d.querySelector('canvas'))"""

#: the pages in the order of the walk: url path, heading, the element that shows the page's content, name
PAGES = (("/", "会商", SVG_CHART, "consultation"),
         ("/review", "事后评估", "[data-testid='stDataFrame']", "review"),
         ("/data", "数据与模型", "[data-testid='stMetric']", "data"),
         ("/duty", "值班发布", "[data-testid='stDataFrame']", "duty"))


def settle(page, timeout: float = 240_000):
    """Wait until the app has finished running the script (Streamlit's running indicator is gone)."""
    page.wait_for_timeout(150)  # the indicator appears a moment after the rerun is requested
    page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=timeout)


def _timed(timings: dict, key: str, action, *, optional: bool = False, cpu=None, cpu_log: dict | None = None,
           before=None):
    """Time ``action`` into ``timings[key]`` (after ``before``, untimed: opening a list); an ``optional`` one that
    times out is left out (and named in ``timings["not timed"]``) so that the others are still reported. With
    ``cpu`` (a function giving the app server's CPU seconds so far), the server's CPU time of the action goes to
    ``cpu_log[key]``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def done(step) -> bool:
        """Run ``step``: False when it timed out and the action is optional (named under "not timed")."""
        try:
            step()
        except PlaywrightTimeout:
            if not optional:
                raise
            timings.setdefault("not timed", []).append(key)
            return False
        return True

    if before is not None and not done(before):
        return
    c0 = cpu() if cpu else None
    t0 = time.perf_counter()
    if not done(action):
        return
    timings[key] = round(time.perf_counter() - t0, 3)
    if cpu and cpu_log is not None and c0 is not None:
        c1 = cpu()
        if c1 is not None:
            cpu_log[key] = round(c1 - c0, 3)


def _open(page, label: str, option_index: int = 1, into: dict | None = None) -> dict:
    """Open the list of the selectbox labelled ``label`` until its option ``option_index`` shows (a rerun of the
    page can close the list as it opens: then again); ``{"option": locator}`` (also put into ``into``)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    into = {} if into is None else into
    for attempt in range(4):
        box.click()
        option = page.locator("[role='option']").nth(option_index)
        try:
            option.wait_for(state="visible", timeout=5_000)
            into["option"] = option
            return into
        except PlaywrightTimeout:
            if attempt == 3:
                raise
            page.keyboard.press("Escape")
            settle(page)
    return into


def _choose(timings: dict, key: str, page, label: str, option_index: int = 1, *, then=None, **kw) -> None:
    """Time choosing an option of a selectbox: from the click on the option to the page settled and ``then`` done
    (opening the list is not timed)."""
    opened: dict = {}

    def action():
        opened["option"].click()
        settle(page)
        if then is not None:
            then()

    _timed(timings, key, action, before=lambda: _open(page, label, option_index, opened), **kw)


def walk(page, url: str, shots: Path | None = None, *, strict: bool = True, cpu=None,
         cpu_log: dict | None = None) -> dict:
    """Visit every page once in Chinese (its first visit timed: from the request to its content, the script
    finished), then time the interactions an officer makes: another area and lead day on the consultation page,
    another issue date, area and the language switch on the duty page, another episode on the review page, the
    language switch there. Returns ``{name: seconds}`` (``visit:<page>``,
    ``click:<what>``: from the choice — the option clicked, not the list opened — to the page settled);
    screenshots to ``shots`` when given. Not ``strict``: an interaction that times out is left
    out (listed under ``"not timed"``) instead of failing the walk. ``cpu``, ``cpu_log``: the server's CPU time of
    each timed step (:func:`_timed`)."""
    timings: dict = {}
    kw = {"cpu": cpu, "cpu_log": cpu_log}
    for path, text, ready, name in PAGES:
        def visit():
            page.goto(url + path, timeout=240_000)
            page.get_by_role("heading", name=text).first.wait_for(timeout=240_000)
            page.locator(ready).first.wait_for(timeout=240_000)  # the page's content, not just its header
            settle(page)
            page.wait_for_function(CONTENT_DRAWN, timeout=240_000)  # the charts and tables drawn, not only sent
        _timed(timings, f"visit:{name}", visit, **kw)
        assert page.locator("[data-testid='stException']").count() == 0, path
        if name == "consultation" and strict:  # its first visit times no chart library: none on its first screen
            assert page.locator(".js-plotly-plot").count() == 0
        if shots is not None:
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.goto(url + "/", timeout=240_000)
    page.locator(SVG_CHART).first.wait_for(timeout=240_000)
    settle(page)
    def drawn():  # the consultation's charts are images: timed until they (and the tables) are drawn
        page.wait_for_function(CONTENT_DRAWN, timeout=60_000)

    _choose(timings, "click:consultation_area", page, "地区", then=drawn, optional=not strict, **kw)
    page.keyboard.press("Escape")
    _timed(timings, "click:consultation_lead", lambda: (page.get_by_text("D2", exact=True).first.click(),
                                                        settle(page), drawn()), optional=not strict, **kw)
    page.goto(url + "/duty", timeout=240_000)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=240_000)
    settle(page)
    _choose(timings, "click:duty_issued", page, "预报发布日期", optional=not strict, **kw)
    page.keyboard.press("Escape")
    _choose(timings, "click:duty_area", page, "地区", optional=not strict, **kw)
    page.keyboard.press("Escape")
    _timed(timings, "click:duty_language", lambda: (page.get_by_text("English", exact=True).first.click(),
                                                    settle(page)), optional=not strict, **kw)
    page.get_by_text("中文", exact=True).first.click()
    settle(page)
    page.goto(url + "/review", timeout=240_000)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=240_000)
    settle(page)
    if page.locator("[data-testid='stSelectbox']").filter(has_text="污染过程").count():
        _choose(timings, "click:review_episode", page, "污染过程", 0, optional=not strict, **kw)
        page.keyboard.press("Escape")
    _timed(timings, "click:language", lambda: (page.get_by_text("English", exact=True).first.click(), settle(page)),
           optional=not strict, **kw)
    page.get_by_text("中文", exact=True).first.click()
    settle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    return timings


def test_pages_and_issuing_in_a_browser(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, db = server
    shots = Path(os.environ.get("LANTIAN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        timings = walk(page, url, shots, strict=False)
        (shots / "timings.json").write_text(json.dumps(timings, indent=1))
        assert {k for k in timings if k.startswith("visit:")} == {f"visit:{n}" for *_, n in PAGES}
        clicks = {"click:consultation_area", "click:consultation_lead", "click:language"}
        assert clicks <= set(timings) | set(timings.get("not timed", [])), timings
        assert len(clicks & set(timings)) >= 2, timings  # a list a rerun closed is not timed; most are
        assert all(0 < v < 600 for k, v in timings.items() if k != "not timed"), timings
        page.goto(url + "/duty", timeout=120_000)
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=240_000)
        page.get_by_label("用户名").fill("duty")
        page.get_by_label("密码").fill("lantian-demo")
        page.get_by_role("button", name="登录").click()
        page.get_by_text("已登录").wait_for(timeout=60_000)
        page.get_by_role("button", name="确认发布").click()
        page.get_by_text("已发布并记入审计日志").wait_for(timeout=60_000)
        page.screenshot(path=str(shots / "duty_issued.png"), full_page=True)
        browser.close()
    with audit.open_store(db) as store:
        events = store.events()
    assert len(events) == 1 and events[0]["officer"] == "包头市值班员（演示）"
    assert events[0]["details"]["login"] == "duty" and events[0]["area_id"] == "baotou"
