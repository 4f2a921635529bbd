"""End to end: the real app (`streamlit run`) in headless Chromium via Playwright — every page opens, a warning is
issued, screenshots are saved. Skipped, with the reason, where the machine has no Chromium (`.ci/run` installs
Debian's chromium and fonts-noto-cjk)."""
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


@pytest.fixture()
def server(winter_world, winter_model, tmp_path):
    port = free_port()
    db = tmp_path / "audit.db"
    env = {**os.environ, "LANTIAN_DATA": str(winter_world), "LANTIAN_MODEL": str(winter_model),
           "LANTIAN_AUDIT": str(db), "LANTIAN_ACCOUNTS": str(ROOT / "config" / "accounts.yaml")}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
                             str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start")
    yield url, db
    proc.terminate()
    proc.wait(20)


def test_pages_and_issuing_in_a_browser(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, db = server
    shots = Path(os.environ.get("LANTIAN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for path, text, ready, name in (("/", "会商", ".js-plotly-plot", "consultation"),
                                        ("/review", "事后评估", "[data-testid='stDataFrame']", "review"),
                                        ("/data", "数据与模型", "[data-testid='stMetric']", "data"),
                                        ("/duty", "值班发布", "[data-testid='stDataFrame']", "duty")):
            page.goto(url + path, timeout=120_000)
            page.get_by_role("heading", name=text).first.wait_for(timeout=180_000)
            page.locator(ready).first.wait_for(timeout=240_000)  # the page's content, not just its header
            page.wait_for_timeout(2000)
            assert page.locator("[data-testid='stException']").count() == 0, path
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
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
