"""Shared helpers of the pages: settings, language, cached library calls."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

TEXT = {
    "title": ("蓝天 · 重污染天气预报与应急响应", "lantian · heavy-pollution forecasting and response"),
    "consultation": ("会商", "Consultation"), "duty": ("值班发布", "Issue warnings"),
    "review": ("事后评估", "Post-episode review"), "data": ("数据与模型", "Data & model"),
    "issue_date": ("预报发布日期", "Issue date"), "lead_day": ("预报时效（天）", "Lead day"),
    "level": ("预警级别", "Warning level"), "no_model": ("尚未训练模型：请到“数据与模型”页训练。",
                                                  "No model yet: train one on the Data & model page."),
    "login": ("值班员登录", "Officer login"), "user": ("用户名", "User"), "password": ("密码", "Password"),
    "wrong_password": ("用户名或密码错误，不能发布。", "Wrong user or password: cannot issue."),
    "issue": ("确认发布", "Confirm and issue"), "issued": ("已发布并记入审计日志", "Issued and recorded in the audit trail"),
    "override": ("调整级别", "Override level"), "reason": ("理由", "Reason"), "bulletin": ("通知草稿", "Bulletin draft"),
    "audit": ("审计日志", "Audit trail"), "episode": ("污染过程", "Episode"), "train": ("训练模型", "Train model"),
    "model_card": ("模型说明", "Model card"), "drivers": ("气象驱动因子贡献", "Driver contributions"),
    "adjust": ("会商订正", "Consultation adjustment"), "save": ("保存会商记录", "Save consultation record"),
    "reduction": ("应急减排清单", "Emission-reduction lists"),
}


def t(key: str) -> str:
    zh, en = TEXT[key]
    return en if st.session_state.get("lang") == "en" else zh


def settings() -> dict:
    data = Path(os.environ.get("LANTIAN_DATA", "demo"))
    return {"data": data, "model": Path(os.environ.get("LANTIAN_MODEL", "models/demo")),
            "audit": Path(os.environ.get("LANTIAN_AUDIT", str(data / ".lantian" / "audit.db"))),
            "accounts": Path(os.environ.get("LANTIAN_ACCOUNTS", "config/accounts.yaml"))}


@st.cache_resource(show_spinner="读取观测与气象数据 / loading observations and meteorology …")
def inputs(data: str):
    from forecast import forecasting

    return forecasting.load_inputs(data)


@st.cache_resource(show_spinner="读取模型 / loading the model …")
def model(model_dir: str, stamp: float):
    from forecast.model import Forecaster

    return Forecaster.load(model_dir)


def model_or_none(model_dir: Path):
    path = Path(model_dir) / "model.json"
    if not path.exists():
        return None
    return model(str(model_dir), path.stat().st_mtime)


@st.cache_data(show_spinner="预报计算中 / forecasting …")
def forecast_doc(data: str, model_dir: str, issued: str, stamp: float) -> dict:
    from forecast import forecasting

    table = forecasting.run_forecast(data, model_dir, issued, inputs=inputs(data))
    return forecasting.forecast_json(table)


def issue_dates(inp) -> list:
    """Issue dates with observations up to the day before and a forecast run of the day (else observed days)."""
    import pandas as pd

    days = inp.obs.daily.index.get_level_values("date")
    runs = pd.to_datetime(inp.met_lead.index.get_level_values("init_time")).normalize().unique() \
        if len(inp.met_lead) else days.unique()
    usable = sorted(set(runs) & set(days + pd.Timedelta(days=1)))
    return usable or sorted(days.unique())


def page_start(title_key: str):
    """Header, settings, model and inputs of a forecast page; ``None`` (with a hint) when there is no model."""
    cfg = settings()
    st.header(t(title_key))
    m = model_or_none(cfg["model"])
    if m is None:
        st.info(t("no_model"))
        return None
    inp = inputs(str(cfg["data"]))
    return cfg, m, inp, issue_dates(inp)
