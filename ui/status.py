"""运行状态 Status: the daily cycle's last run (``lantian cycle``) — data freshness per source, degraded flags,
notifications sent, the last runs. Reads the status record through :func:`lantian.cycle.read_status` and shows
:func:`lantian.cycle.status_view`; no logic here."""
from __future__ import annotations

import streamlit as st

from lantian import cycle
from ui.common import TEXT, lang, settings, show_table, t

TEXT.update({
    "status": ("运行状态", "Daily run"),
    "no_cycle": ("尚未运行日常任务（`lantian cycle --data … --model …`，见 README“日常运行”）。",
                 "The daily run has not run yet (`lantian cycle --data … --model …`, README 'Daily operation')."),
    "cycle_state": ("运行结果", "Result"), "freshness": ("数据时效与完整性", "Data freshness and completeness"),
    "sources": ("数据获取", "Data brought in"), "notifications": ("通知", "Notifications"),
    "runs": ("最近运行", "Recent runs"), "refused_reason": ("未能预报：", "No forecast: "),
    "degraded_head": ("数据降级，本次预报须谨慎使用：", "Degraded: read this forecast with care:"),
    "briefing_file": ("会商材料", "Briefing"),
})


@st.cache_data(ttl=30, show_spinner=False)
def _view(data: str, lang_: str):
    return cycle.status_view(cycle.read_status(data), cycle.read_runs(data), lang_)


def render():
    cfg = settings()
    st.header(t("status"))
    view = _view(str(cfg["data"]), lang())
    if view is None:
        st.info(t("no_cycle"))
        return
    st.metric(t("cycle_state"), view["state_label"])
    st.caption(view["headline"])
    if view["reason"]:
        st.error(t("refused_reason") + view["reason"])
    if view["degraded"]:
        st.warning(t("degraded_head") + ("；" if lang() == "zh" else "; ").join(view["degraded"]))
    st.subheader(t("freshness"))
    show_table(view["freshness"])
    st.subheader(t("sources"))
    show_table(view["sources"])
    st.subheader(t("notifications"))
    if view["notify_note"]:
        st.caption(view["notify_note"])
    else:
        show_table(view["notifications"])
    if view["briefing"]:
        st.markdown(f"**{t('briefing_file')}**{t('colon')}`{view['briefing']}`")
    st.subheader(t("runs"))
    show_table(view["runs"])
