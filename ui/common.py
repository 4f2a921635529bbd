"""Shared helpers of the pages: settings, language, the logged-in account, cached library calls."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import streamlit as st

from lantian.demo import DEMO  # the demo world and model `make run` prepares: one home (lantian/demo.py)

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
    "show_adjusted": ("显示会商订正后的预报", "Show the consultation's adjusted forecast"),
    "all_leads": ("全部时效", "all days"), "verification": ("近期检验", "Recent verification"),
    "no_verification": ("模型尚未检验（在“数据与模型”页运行检验，或 `lantian verify`）",
                        "Model not verified yet (run a verification on the Data & model page, or `lantian verify`)"),
    "driver_maps": ("气象要素场", "Meteorological driver maps"),
    "show_maps": ("显示气象要素场（读取气象预报文件，需数秒）", "Show the maps (reads the forecast files: seconds)"), "field": ("要素", "Field"),
    "no_fields": ("没有可用的气象场", "No fields to map"), "valid_time": ("时次", "Valid time"),
    "source": ("来源", "Source"), "participants": ("参会人员", "Participants"), "notes": ("会商纪要", "Notes"),
    "model_values": ("模型预报中位数", "Model median"),
    "consultation_aqi": ("会商订正后的 AQI", "the consultation's AQI"),
    "saved": ("会商记录已保存", "Consultation record saved"),
    "adjusted_note": ("本日预报含会商订正，建议级别按订正后的预报分级。",
                      "Today's forecast carries consultation adjustments: the proposals grade the adjusted forecast."),
    "prepare": ("准备演示数据与模型", "Prepare the demo data and model"),
    "forecast_run": ("运行预报", "Run forecast"), "verify_run": ("运行检验", "Run verification"),
    "simulating": ("模拟演示数据", "simulating the demo world"),
    "extracting": ("读取观测、提取气象驱动因子（首次约数分钟）…",
                   "reading observations, extracting meteorological drivers (a few minutes the first time) …"),
    "no_data": ("没有数据目录 {data}（需要 stations/ 和 meteorology/）。",
                "No data directory {data} (needs stations/ and meteorology/)."),
    "prepared": ("演示数据与模型已就绪", "Demo data and model ready"),
    "decision": ("预警级别建议与概率", "Proposed levels and their probabilities"),
    "thresholds": ("预警决策阈值：试算与设定", "Decision thresholds: try and set"),
    "threshold": ("阈值", "Threshold"),
    "no_record": ("模型还没有检验记录（先运行检验），无法试算后果。",
                  "The model has no level record yet (run a verification): consequences cannot be counted."),
    "record_of": ("按{what}记录（{n} 个地区·日）试算：", "On the {what} record ({n} area-days):"),
    "set_thresholds": ("设定为会商阈值（记录设定人和理由）", "Set for the consultation (signed, with a reason)"),
    "reliability": ("概率可靠性图", "Reliability diagram"),
    "no_map": ("没有地区边界，无法绘制级别分布图。", "No area boundaries: no level map."),
    "need_signature": ("设定阈值须填写理由。", "Setting thresholds needs a reason."),
    "set_by": ("设定人", "Set by"), "set_reason": ("设定理由", "Reason for the setting"),
    "outdated_model": ("模型文件需要重新训练：{msg}", "The model must be retrained: {msg}"),
    "model_registry": ("模型版本目录无法使用：{msg}", "The versioned model folder cannot be used: {msg}"),
    "promoted_version": ("当前启用的模型版本：{version}（{folder} 共 {n} 个版本；`lantian models list`）",
                         "Model version in use (promoted): {version} ({n} version(s) in {folder}; "
                         "`lantian models list`)"),
    "logged_in": ("已登录", "Logged in"), "logout": ("退出登录", "Log out"), "log_in": ("登录", "Log in"),
    "session_expired": ("登录已过期，请重新登录。", "Your session expired: log in again."),
    "need_login": ("请先在左侧登录（需要相应权限）。", "Log in (sidebar) with an account that has this right."),
    "no_right": ("当前账号无此权限：{msg}", "This account may not do this: {msg}"),
    "demo_on_real": ("账号文件 {path} 中有演示账号（{users}，演示密码）。演示账号只能用于模拟演示数据，"
                     "不能用于真实数据 {data}。请用 `lantian accounts add --file 新文件 …` 建立本单位账号，"
                     "并设置 LANTIAN_ACCOUNTS 指向该文件。",
                     "The accounts file {path} holds demo accounts ({users}, demo password). They work only on the "
                     "simulated demo world, not on real data {data}. Create your team's accounts with `lantian "
                     "accounts add --file NEW_FILE …` and point LANTIAN_ACCOUNTS at that file."),
    "chain_ok": ("审计日志哈希链完整", "Audit trail hash chain intact"),
    "chain_bad": ("审计日志可能被篡改", "The audit trail may have been tampered with"),
    "accounts_error": ("账号文件不可用：{msg}", "The accounts file cannot be used: {msg}"),
}


TEXT.update({
    "area": ("地区", "Area"), "station_files": ("站点文件", "Station files"),
    "hourly_values": ("小时数据", "Hourly values"), "period": ("时段", "Period"), "data_dir": ("数据目录", "Data"),
    "qc": ("质量控制", "Quality control"), "meteorology": ("气象数据", "Meteorology"),
    "train_until": ("训练截止", "Train until"), "done": ("完成", "done"), "archived": ("已存档", "Archived"),
    "no_verifiable": ("训练期之后没有可检验的日期", "No issue dates after the training period"),
    "model_vs_consultation": ("模型与会商订正对比", "Model vs consultation"),
    "model_line": ("{name} {version}，训练期 {period}，{rows} 条样本", "{name} {version}, trained on {period}, {rows} rows"),
    "driver_note": ("各因子对模型预报中位数的贡献（AQI），相对于各因子取训练期平均时的基准 {base}；正值使AQI升高，负值使AQI降低。",
                    "Each driver's part of the model's median forecast (AQI points) against the baseline {base} with "
                    "every driver at its training mean; positive raises the AQI, negative lowers it."),
    "no_drivers": ("本预报没有驱动因子贡献", "This forecast carries no driver contributions"),
    "regional_warning": ("区域预警", "Regional warning"), "proposals": ("各级预警建议", "Proposals per tier"),
    "warned_first": ("有预警的盟市在前；展开查看所辖旗县（市、区）。",
                     "Leagues/cities with warnings first; open one for its banners/counties."),
    "counties_of": ("{city}所辖旗县（市、区）：{n} 个，其中 {warned} 个有预警", "{city}: {n} banners/counties, {warned} with a warning"),
    "bulletin_preview": ("预览", "Preview"), "bulletin_edit": ("编辑", "Edit"),
    "bulletin_edited": ("通知已修改：发布时记录修改后的文本。", "The bulletin was edited: the edited text is what gets issued."),
    "bulletin_reset": ("恢复系统草稿", "Back to the system draft"), "no_bulletin": ("该地区没有通知草稿（无需操作）。",
                                                                     "No bulletin draft for this area (no action)."),
    "reduction_summary": ("减排比例核算（按地区）", "Reduction shares per area"),
    "reduction_full": ("完整减排清单核算表", "The full share table"),
    "relies_on_unverified": ("依赖未核实的其他行业减排系数", "relies on unverified other-sector credits"),
    "short": ("未达标", "short"), "met": ("达标", "met"),
    "chain_ok_detail": ("共 {n} 条记录，链头 {head}（可抄录留存，用于日后核对）",
                        "{n} events, chain head {head} (note it down to check against later)"),
    "chain_bad_detail": ("发现 {n} 处问题，首个异常记录 {first}", "{n} problem(s), first bad event {first}"),
    "colon": ("：", ": "), "list_sep": ("、", ", "), "semicolon": ("；", "; "),
    "and_more": ("等 {n} 家", " and others ({n} in all)"),
    "close_gap": ("可补足缺口的企业", "Enterprises that close the gap"),
    "required_vs_achieved": ("{pollutant}：要求 {target}，已核实 {share}（含未核实 {with_unverified}）",
                             "{pollutant}: required {target}, verified {share} ({with_unverified} with unverified)"),
    "episode_none": ("没有重污染过程（AQI>200）", "No heavy episode in the data (AQI > 200)"),
    "warnings_from": ("预警记录：", "Warnings from: "),
    "no_warnings_record": ("没有预警记录（审计日志或 {path}）", "No warnings record (audit store or {path})"),
    "data_gaps": ("数据缺口", "Data gaps"), "effect": ("减排效果", "Effect of the cuts"),
    "interval": ("90% 区间 {lo} … {hi}", "90% interval {lo} … {hi}"),
    "warned_area_days": ("预警地区日", "Warned area-days"), "warning_quality": ("预警评估", "Warning quality"),
    "forecast_quality": ("预报评估", "Forecast quality"), "download_report": ("下载报告（HTML）", "Download the report (HTML)"),
    "download_json": ("下载报告数据（JSON）", "Download the report data (JSON)"),
    "source_field": ("来源", "Source"), "cst": ("北京时", "CST"),
    "timeline_area": ("过程曲线：地区", "Timeline of"),
    "cache_rebuilt": ("页面缓存文件已损坏，已重新计算。", "A damaged page cache file was computed again."),
    "bad_issued": ("链接中的发布日期 {value} 不可用（可选 {first} 至 {last}），已显示最近一期。",
                   "The link's issue date {value} cannot be shown (allowed {first} … {last}): the latest is shown."),
})


def lang() -> str:
    """The page language: ``"zh"`` (default) or ``"en"`` (the sidebar's switch)."""
    return "en" if st.session_state.get("lang") == "en" else "zh"


def t(key: str) -> str:
    zh, en = TEXT[key]
    return en if lang() == "en" else zh


def L(kind: str, code, **kw) -> str:
    """A code's label in the page language (:func:`forecast.labels.label`)."""
    from forecast import labels

    return labels.label(kind, code, lang(), **kw)


@st.cache_data(show_spinner=False)
def _unit_names(data: str) -> dict:
    from forecast.areas import response_units
    from response.plans import load_plans

    reg = region(data)
    units = response_units(reg.areas)
    out = {"zh": dict(zip(units["area_id"], units["name_zh"])),
           "en": dict(zip(units["area_id"], units["name_en"].fillna(units["name_zh"])))}
    try:
        plans = load_plans(reg.plans_file, areas=reg.areas)
    except (ValueError, OSError):  # zone names are a convenience: the duty page reports a bad plans file itself
        plans = {}
    for zone in (plans.get("region") or {}).get("control_zones", []):
        out["zh"][zone["id"]] = zone.get("name_zh", zone["id"])
        out["en"][zone["id"]] = zone.get("name_en") or zone.get("name_zh", zone["id"])
    out["parent"] = dict(zip(units["area_id"], units["parent_id"]))
    return out


def unit_names(data) -> dict:
    """Names of every response unit and control zone of the data directory's region in the page language
    (``area_id`` → name), from the area table, the banner/county list and the plans."""
    return _unit_names(str(data))[lang()]


def parent_of(data) -> dict:
    """Response unit → its league/city (``None`` for a league/city)."""
    return _unit_names(str(data))["parent"]


def level_style(cell) -> str:
    """The CSS of a table cell naming a warning level: the official colour (:data:`forecast.levels.LEVEL_COLOURS`)."""
    from forecast import labels

    lv = labels.level_of_label(cell)
    if lv is None:
        return ""
    text = "#000000" if lv in ("none", "yellow") else "#FFFFFF"
    return f"background-color: {labels.level_colour(lv)}; color: {text}"


def show_table(df, *, level_columns=(), **kw) -> None:
    """A table with the cells of ``level_columns`` in the official level colours (no index by default)."""
    import pandas as pd

    kw.setdefault("hide_index", True)
    kw.setdefault("width", "stretch")
    if df is None or not len(df):
        st.dataframe(pd.DataFrame() if df is None else df, **kw)
        return
    cols = [c for c in level_columns if c in df.columns]
    st.dataframe(df.style.map(level_style, subset=cols) if cols else df, **kw)


def level_chip(level: str, text: str | None = None) -> str:
    """HTML of a small chip in the official colour of ``level`` with its name (for ``st.markdown``)."""
    from forecast import labels

    colour = labels.level_colour(level)
    fg = "#000000" if level in ("none", "yellow") else "#FFFFFF"
    return (f"<span style='background:{colour};color:{fg};padding:1px 8px;border-radius:8px'>"
            f"{text or L('levels', level)}</span>")




def settings() -> dict:
    data = Path(os.environ.get("LANTIAN_DATA", "demo"))
    prepare = "LANTIAN_DATA" not in os.environ or os.environ.get("LANTIAN_PREPARE") == "1"
    return {"data": data, "model": Path(os.environ.get("LANTIAN_MODEL", "models/demo")), "prepare_demo": prepare,
            "audit": Path(os.environ["LANTIAN_AUDIT"]) if os.environ.get("LANTIAN_AUDIT") else None,
            "accounts": Path(os.environ.get("LANTIAN_ACCOUNTS", "config/accounts.yaml"))}


# ---- the logged-in account -------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False)
def _account_file(path: str, stamp: float) -> bool:
    """The accounts file read and checked (:func:`response.accounts.load_accounts`: raises its ``AccountError``)."""
    from response import accounts

    accounts.load_accounts(path)
    return True


@st.cache_data(show_spinner=False)
def _demo_users(path: str, stamp: float) -> list[str]:
    from response import accounts

    return accounts.demo_accounts(accounts.load_accounts(path))


def accounts_guard(cfg: dict) -> None:
    """Stop the app with instructions when the accounts file is unusable, or holds demo accounts while the data are
    not the simulated demo world (the demo password must never open a real duty workflow). The demo password is
    checked against the accounts' hashes (bcrypt: about 70 ms per account) only where it matters: not on the demo
    world nor on its first start."""
    from forecast import workspace
    from response import accounts

    path = cfg["accounts"]
    stamp = path.stat().st_mtime if path.exists() else 0.0
    first_start = cfg["prepare_demo"] and not cfg["data"].exists()  # the default demo world is about to be made
    try:
        _account_file(str(path), stamp)
        if first_start or workspace.is_demo_world(cfg["data"]):
            return
        users = _demo_users(str(path), stamp)
    except accounts.AccountError as exc:
        st.error(t("accounts_error").format(msg=exc))
        st.stop()
    if users:
        st.error(t("demo_on_real").format(path=path, users=", ".join(users), data=cfg["data"]))
        st.stop()


def current_account():
    """The logged-in :class:`response.accounts.Account` of this browser session, or ``None`` (also when the
    session expired: :func:`response.accounts.session_valid`)."""
    from response import accounts

    acc = st.session_state.get("account")
    if acc is None:
        return None
    now = datetime.now(timezone.utc)
    if not accounts.session_valid(st.session_state["logged_in_at"], st.session_state["last_seen"], now=now):
        for key in ("account", "logged_in_at", "last_seen"):
            st.session_state.pop(key, None)
        st.session_state["expired"] = True
        return None
    st.session_state["last_seen"] = now
    return acc


def login_box(cfg: dict) -> None:
    """The sidebar's login / logout (every failed login is recorded; repeated failures lock the user out)."""
    from forecast import workspace
    from response import accounts

    acc = current_account()
    with st.sidebar:
        if acc is not None:
            scope = ""
            if acc.tier:
                scope = "，" + (unit_names(cfg["data"]).get(acc.area, acc.area) if acc.area else L("tiers", acc.tier))
            st.caption(f"{t('logged_in')}：{acc.name_zh}（{acc.user}{scope}）")
            if st.button(t("logout"), key="logout"):
                for key in ("account", "logged_in_at", "last_seen"):
                    st.session_state.pop(key, None)
                st.rerun()
            return
        if st.session_state.pop("expired", False):
            st.info(t("session_expired"))
        with st.form("login"):
            user = st.text_input(t("user"), key="login_user")
            password = st.text_input(t("password"), type="password", key="login_password")
            if st.form_submit_button(t("log_in")):
                try:
                    acc = accounts.login(accounts.load_accounts(cfg["accounts"]), user, password,
                                         workspace_dir=workspace.cache_dir(cfg["data"]))
                except (accounts.LoginError, accounts.AccountError) as exc:
                    st.error(str(exc))
                    return
                now = datetime.now(timezone.utc)
                st.session_state.update(account=acc, logged_in_at=now, last_seen=now)
                st.rerun()


def session_start(cfg: dict) -> None:
    """What every page does first: refuse demo accounts on real data, then the sidebar's login."""
    accounts_guard(cfg)
    login_box(cfg)


def allowed(right: str, **scope) -> tuple[bool, str]:
    """Whether the logged-in account has ``right`` (within ``scope``: ``area_id``, ``tier``), and why not."""
    from response import accounts

    try:
        accounts.authorize(current_account(), right, **scope)
    except accounts.PermissionDenied as exc:
        return False, (t("need_login") if current_account() is None else t("no_right").format(msg=exc))
    return True, ""


def audit_path(cfg: dict) -> Path:
    """The audit store: ``LANTIAN_AUDIT``, else the data directory's workspace (``forecast.workspace``)."""
    from forecast import workspace

    return cfg["audit"] or workspace.audit_path(cfg["data"])


@st.cache_resource(show_spinner=False)
def region(data: str):
    """The data directory's region (its ``region/`` folder, else ``LANTIAN_REGION``, else the shipped one)."""
    from forecast.region import load_region

    from ui import warm

    preloaded = warm.take("region", data)  # loaded as the server started (python app.py)
    return preloaded if preloaded is not None else load_region(data=data)


@st.cache_resource(show_spinner=False)
def map_geoms(data: str) -> dict:
    """The region's boundaries simplified for the maps (:func:`forecast.areas.map_outlines`), once per process."""
    from forecast.areas import map_outlines

    return map_outlines(region(data).boundaries)


@st.cache_resource(show_spinner="读取观测与气象数据 / loading observations and meteorology …")
def inputs(data: str):
    from forecast import forecasting

    from ui import warm

    preloaded = warm.take("inputs", data)  # loaded as the server started (python app.py), with region(data)
    if preloaded is not None and preloaded.region is region(data):
        return preloaded
    return forecasting.load_inputs(data, region=region(data))


class ModelInfo:
    """What the pages show of a model — its card and version — without loading its boosters (seconds; the
    forecast itself loads the model when it is not in the page cache)."""

    def __init__(self, card: dict, directory: Path):
        self.card, self.directory = card, directory

    @property
    def version(self) -> str:
        return str(self.card.get("version", "unversioned"))


@st.cache_resource(show_spinner="读取模型 / loading the model …")
def model(model_dir: str, stamp: float):
    """The model's card (:class:`ModelInfo`), checked as :meth:`forecast.model.Forecaster.load` checks it (the
    format, every booster present); a model that fails the check is loaded to raise its error."""
    import json

    from forecast import registry
    from forecast.model import MODEL_FORMAT, Forecaster

    folder = Path(registry.resolve(model_dir))
    try:
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        card_path = folder / "model_card.json"
        card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.exists() else {}
        ok = (isinstance(meta, dict) and meta.get("format") == MODEL_FORMAT and isinstance(card, dict)
              and isinstance(meta.get("boosters"), list)
              and all(isinstance(b, str) and "/" not in b and (folder / f"{b}.txt").is_file() for b in meta["boosters"]))
    except (OSError, ValueError):
        ok = False
    if not ok:
        m = Forecaster.load(model_dir)  # raises the model's error (or loads a model this check does not know)
        return ModelInfo(m.card, m.directory)
    return ModelInfo(card, folder)


def model_or_none(model_dir: Path):
    """The model, or ``None`` (with a message) when there is none or it must be retrained (an older format)."""
    from forecast import registry
    from forecast.model import ModelError

    versioned = registry.is_versioned(model_dir)
    path = Path(model_dir) / ("model.json" if not versioned else registry.REGISTRY_FILE)
    if not path.exists() and not versioned:
        return None
    try:
        folder = registry.resolve(model_dir)  # a versioned folder: its promoted version
        card = folder / "model_card.json"  # `verify` rewrites the card, a promotion the registry: reload on either
        stamp = sum(p.stat().st_mtime for p in {path, folder / "model.json", card} if p.exists())
        return model(str(model_dir), stamp)
    except ModelError as exc:
        st.warning(t("outdated_model" if not versioned else "model_registry").format(msg=exc))
        return None


def model_stamp(model_dir: Path) -> float | None:
    """What changes when the model in use changes (a cache key): the modification times of the model and, for a
    versioned folder, of its registry (a promotion); ``None`` when there is no usable model."""
    from forecast import registry
    from forecast.model import ModelError

    try:
        folder = registry.resolve(model_dir)
    except ModelError:
        return None
    files = [Path(folder) / "model.json", Path(model_dir) / registry.REGISTRY_FILE]
    return sum(p.stat().st_mtime for p in files if p.exists()) if files[0].exists() else None


def model_version_line(model_dir: Path, m) -> str | None:
    """For a versioned model folder: the promoted version in use and how many versions the folder holds (a caption
    under the page's header); ``None`` for a plain model folder."""
    from forecast import registry

    if not registry.is_versioned(model_dir):
        return None
    try:
        n = len(registry.load(model_dir).versions())
    except registry.RegistryError:
        return None
    return t("promoted_version").format(version=m.version, n=n, folder=model_dir)


@st.cache_resource(show_spinner=False)
def inputs_key(data: str) -> str:
    """The digest of the loaded inputs the page cache keys its entries with (:func:`lantian.pagecache.
    inputs_digest`), once per loaded inputs."""
    from lantian import pagecache

    return pagecache.inputs_digest(inputs(data))


@st.cache_data(show_spinner="预报计算中 / forecasting …", max_entries=64)
def _forecast_doc(data: str, model_dir: str, issued: str, stamp: float) -> tuple[dict, str | None]:
    from lantian import pagecache

    return pagecache.forecast_document(data, model_dir, issued, inputs=inputs(data), inputs_key=inputs_key(data))


def forecast_doc(data: str, model_dir: str, issued: str, stamp: float) -> dict:
    """The forecast document of ``issued``: from the page cache on disk when kept (the demo preparation keeps the
    held-out winter's; :mod:`lantian.pagecache`), else computed (and archived) and kept there."""
    doc, note = _forecast_doc(data, model_dir, issued, stamp)
    cache_note(note)
    return doc


def cache_note(note: str | None) -> None:
    """Say once per session that a damaged page cache entry was computed again."""
    if note and note not in st.session_state.setdefault("_cache_notes", set()):
        st.session_state["_cache_notes"].add(note)
        st.caption(t("cache_rebuilt"))


def adjusted_doc(data, doc: dict) -> tuple:
    """The forecast with the consultation's latest adjustments of its issue date applied, and those records (a
    DataFrame)."""
    import pandas as pd

    from forecast import consultation

    adjusted, info = consultation.adjusted_forecast(doc, data)
    return adjusted, pd.DataFrame(info["records"])


def issued_from_link(dates) -> "date | None":
    """The issue date a shared link names (``?issued=YYYY-MM-DD``) when it is one of ``dates`` (``datetime.date``);
    ``None`` without one, and — with a warning naming the allowed range — for one that is not a date or not
    issuable."""
    from datetime import date

    value = st.query_params.get("issued")
    if value is None or not len(dates):
        return None
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        day = None
    if day not in dates:
        st.warning(t("bad_issued").format(value=value, first=min(dates), last=max(dates)))
        return None
    return day


def issue_date_slider(dates, key: str = "issued"):
    """The issue-date slider (the latest date by default, or the one a link names: :func:`issued_from_link`);
    the date chosen is written back into the address (``?issued=…``) so that the page's link can be shared."""
    options = [d.date() for d in dates]
    linked = issued_from_link(options)
    if linked is not None and st.session_state.get(f"_{key}_link") != linked:
        st.session_state[key] = linked  # a new link wins over the slider's last position
        st.session_state[f"_{key}_link"] = linked
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[-1]
    issued = st.select_slider(t("issue_date"), options=options, key=key)
    if st.query_params.get("issued") != str(issued):
        st.query_params["issued"] = str(issued)
        st.session_state[f"_{key}_link"] = issued
    return issued


def prepare_demo(cfg: dict) -> None:
    """First start: simulate the demo world and train the demo model, with visible progress."""
    from forecast import forecasting
    from simulate import simulate

    with st.status(t("prepare"), expanded=True) as status:
        if not (cfg["data"] / "README.md").exists():
            bar = st.progress(0.0, text=t("simulating"))
            simulate(cfg["data"], seed=DEMO["seed"], start=DEMO["start"], end=DEMO["end"],
                     progress=lambda done, total: bar.progress(done / total, text=f"{t('simulating')} {done}/{total}"))
        st.write(t("extracting"))
        inp = inputs(str(cfg["data"]))
        bar = st.progress(0.0, text=t("train"))
        forecasting.train(cfg["data"], cfg["model"], until=DEMO["train_until"], inputs=inp,
                          progress=lambda done, total: bar.progress(done / total, text=f"{t('train')} {done}/{total}"))
        status.update(label=t("prepared"), state="complete")


def data_ready(cfg: dict) -> bool:
    """Whether the data directory exists (preparing the demo first when that is the default); else a hint."""
    if not (cfg["data"] / "stations").is_dir() and cfg["prepare_demo"]:
        prepare_demo(cfg)
    if not (cfg["data"] / "stations").is_dir():
        st.info(t("no_data").format(data=cfg["data"]))
        return False
    return True


def page_start(title_key: str):
    """Header, settings, model and inputs of a forecast page; ``None`` (with a hint) when there is no model.

    On the first start with the default demo settings the demo world and model are prepared here, with progress.
    """
    cfg = settings()
    st.header(t(title_key))
    session_start(cfg)
    if not data_ready(cfg):
        return None
    m = model_or_none(cfg["model"])
    if m is None and cfg["prepare_demo"]:
        prepare_demo(cfg)
        m = model_or_none(cfg["model"])
    if m is None:
        st.info(t("no_model"))
        return None
    line = model_version_line(cfg["model"], m)
    if line:
        st.caption(line)
    from forecast import products

    inp = inputs(str(cfg["data"]))
    return cfg, m, inp, products.issue_dates(inp.obs.daily, inp.met_lead)
