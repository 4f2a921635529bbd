"""lantian 蓝天 — the Streamlit app: routing only; the pages in ui/ lay out widgets and call the library.

Run with ``make run``, or ``python app.py [streamlit options]``: the server starts with the pages and the library
imported and the region and inputs loading in the background (:mod:`ui.warm`), so that the first visit of a page
does not wait for them; ``streamlit run app.py`` works too (the first visit then loads them). Settings come from
the environment: ``LANTIAN_DATA`` (data directory, default ``demo``), ``LANTIAN_MODEL`` (default ``models/demo``),
``LANTIAN_AUDIT``, ``LANTIAN_ACCOUNTS``.

While the demo is being prepared in the background (``lantian demo prepare``, :mod:`lantian.demo`), the sidebar
shows its progress from the status file, and a page whose parts are not ready yet says so
(``正在准备…（x/y）``) instead of running.
"""
import os
import sys
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lantian import demo


def t(key: str) -> str:
    from ui.common import t as text

    return text(key)


#: a step's state as the panel shows it (words, not emoji: the CJK fonts of a duty office's machine may lack them)
STATE_MARKS = {"done": ("已完成", "done"), "skipped": ("已完成", "done"), "running": ("进行中", "running"),
               "pending": ("等待", "waiting"), "failed": ("失败", "failed")}


def _status() -> dict | None:
    """The demo preparation's status (``None`` when nothing is being or was prepared for this data folder)."""
    folder = Path(os.environ.get("LANTIAN_DATA", "demo"))
    path = folder / ".lantian" / demo.STATUS_FILE
    return demo.read_status(path) if path.exists() else None


def _lang() -> str:
    return "en" if st.session_state.get("lang") == "en" else "zh"


def status_panel(status: dict | None) -> None:
    """The sidebar's preparation panel: one line per step (done, running, waiting, failed) while not all done."""
    if status is None or (status.get("state") == "done"):
        return
    lang = _lang()
    with st.sidebar.expander(demo.progress_text(status, lang), expanded=True):
        for s in status["steps"]:
            secs = f"（{s['seconds']:.0f} s）" if s.get("seconds") is not None else ""
            detail = f" {s['detail']}" if s.get("detail") and s["state"] in ("running", "failed") else ""
            mark = STATE_MARKS[s["state"]][0 if lang == "zh" else 1]
            st.markdown(f"**{mark}** {s['zh'] if lang == 'zh' else s['en']}{secs}{detail}")
        if status.get("state") == "running" and not demo.is_running(status):
            st.caption("准备进程已停止：运行 `make run` 继续。" if lang == "zh" else
                       "The preparation stopped: run `make run` to continue.")


@st.fragment(run_every=3)
def _waiting(page: str) -> None:
    """The progress of a page that waits for the preparation, refreshed every 3 s; the whole app reruns (and the
    page appears) once its parts are ready."""
    status = _status()
    if demo.step_done(status, demo.PAGE_NEEDS[page]):
        st.rerun(scope="app")
    st.info(demo.progress_text(status, _lang()))
    st.progress(sum(s["state"] in ("done", "skipped") for s in status["steps"]) / len(status["steps"]))
    if demo.is_running(status):
        st.caption("页面将在所需数据准备好后自动显示。" if _lang() == "zh" else
                   "The page appears by itself once its parts are ready.")


def gated(render, page: str):
    """The page, or — while the demo preparation has not reached the part it needs — its progress instead."""
    def run():
        if demo.step_done(_status(), demo.PAGE_NEEDS[page]):
            return render()
        st.header(t(page))
        _waiting(page)
    run.__name__ = f"{page}_page"
    return run


def main() -> None:
    """The app: language switch, title, the preparation's progress, the pages."""
    from ui import consultation, data, duty, review, status

    st.set_page_config(page_title="lantian 蓝天", layout="wide")
    st.sidebar.radio("语言 / Language", ["zh", "en"], key="lang",
                     format_func=lambda v: "中文" if v == "zh" else "English", horizontal=True)
    st.title(t("title"))
    status_panel(_status())
    pages = [st.Page(gated(consultation.render, "consultation"), title=t("consultation"), url_path="consultation",
                     default=True),
             st.Page(gated(duty.render, "duty"), title=t("duty"), url_path="duty"),
             st.Page(gated(review.render, "review"), title=t("review"), url_path="review"),
             st.Page(gated(data.render, "data"), title=t("data"), url_path="data"),
             st.Page(status.render, title=t("status"), url_path="status")]
    st.navigation(pages).run()


def serve(args: list[str]) -> int:
    """``python app.py [streamlit options]``: ``streamlit run app.py`` in this process, whose imports (the pages,
    the library) are done already, with the region and inputs of ``LANTIAN_DATA`` loading in the background
    (:func:`ui.warm.start`)."""
    from streamlit.web import cli

    from ui import warm

    warm.start(str(Path(os.environ.get("LANTIAN_DATA", "demo"))))  # as ui.common.settings names it
    return cli.main(["run", str(Path(__file__).resolve()), *args], prog_name="streamlit", standalone_mode=False) or 0


if __name__ == "__main__" and get_script_run_ctx(suppress_warning=True) is None:  # python app.py, not a rerun
    sys.exit(serve(sys.argv[1:]))
main()
