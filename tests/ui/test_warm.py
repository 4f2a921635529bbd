"""What the server loads as it starts (ui.warm, `python app.py`): the pages take the preloaded region and inputs;
a failed preload leaves the loading (and its error) to the page; nothing is read while the demo is prepared."""
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lantian import demo
from ui import warm

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean():
    warm.reset()
    yield
    warm.reset()


def test_the_region_and_inputs_are_preloaded(winter_world, monkeypatch):
    from forecast import forecasting

    monkeypatch.setattr(warm, "_wait_for_runtime", lambda timeout=60.0: None)
    warm.start(str(winter_world)).join(120)
    region, inputs = warm.take("region", str(winter_world)), warm.take("inputs", str(winter_world))
    assert region is not None and inputs is not None and inputs.region is region
    assert set(region.boundaries) == set(region.areas["area_id"])  # parsed as the server started
    expected = forecasting.load_inputs(winter_world)
    assert inputs.obs.daily.equals(expected.obs.daily)
    assert warm.take("inputs", "/another/folder") is None  # only what was preloaded
    assert warm.take("inputs", str(winter_world)) is None  # handed out once: a cleared page cache loads afresh


def test_a_failed_preload_leaves_the_loading_to_the_page(tmp_path, monkeypatch):
    monkeypatch.setattr(warm, "_wait_for_runtime", lambda timeout=60.0: None)
    missing = tmp_path / "nothing-here"
    warm.start(str(missing)).join(60)
    assert warm.take("inputs", str(missing)) is None  # no stations/: the page says so itself


def test_no_inputs_are_read_while_the_demo_is_prepared(winter_world, tmp_path, monkeypatch):
    """A preparation that has not read the inputs yet: the preload leaves them alone (the region is loaded)."""
    from forecast import forecasting

    monkeypatch.setattr(warm, "_wait_for_runtime", lambda timeout=60.0: None)
    data = tmp_path / "demo"
    data.mkdir()
    (data / "stations").symlink_to(winter_world / "stations")
    steps = [{"key": k, "zh": zh, "en": en, "state": "running" if k == "inputs" else
              ("done" if k == "simulate" else "pending"), "detail": "", "seconds": None}
             for k, (zh, en) in demo.STEPS.items()]
    (data / ".lantian").mkdir()
    (data / ".lantian" / demo.STATUS_FILE).write_text(json.dumps({"state": "running", "pid": os.getpid(),
                                                                  "steps": steps}))
    monkeypatch.setattr(forecasting, "load_inputs", lambda *a, **k: pytest.fail("inputs read during preparation"))
    warm.start(str(data)).join(60)
    assert warm.take("region", str(data)) is not None and warm.take("inputs", str(data)) is None


def test_python_app_py_serves_the_app(winter_world, winter_model, tmp_path):
    """``python app.py`` starts the server (what make run and the browser test start) and its first page runs."""
    from tests.ui.test_e2e import free_port

    port = free_port()
    env = {**os.environ, "LANTIAN_DATA": str(winter_world), "LANTIAN_MODEL": str(winter_model),
           "LANTIAN_AUDIT": str(tmp_path / "audit.db"), "LANTIAN_ACCOUNTS": str(ROOT / "config" / "accounts.yaml")}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("python app.py did not serve")
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
        assert b"<noscript>" in page or b"streamlit" in page.lower()
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in out and "No runtime found" not in out, out
