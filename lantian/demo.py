"""The demo's first start: a complete story prepared once, step by step, with its progress in a status file.

:func:`prepare` sequences the steps (each skipped when its product is already on disk, so a second run — or a
restart after an interruption — does only what is missing):

1. ``simulate`` — the demo world (``lantian simulate --seed 7``, three winters);
2. ``inputs`` — the station history and the meteorological drivers (cached in the world's workspace);
3. ``model`` — the demo model: the one shipped in ``models/`` when it was trained on exactly this world
   (:func:`world_fingerprint`), else trained on the first two winters (``--until 2024-05-31``);
4. ``verify`` — the model verified on the held-out third winter (``lantian verify``: the scores go into the
   model card and the level record beside the model, where the consultation page reads them);
5. ``archive`` — that winter's daily forecasts in the forecast archive (:mod:`forecast.archive`), as each was
   issued: a rolling-origin hindcast, every forecast from the data available at its issue time;
6. ``history`` — a demo warning history in the audit store: for every issue date of that winter, the proposals
   :func:`response.respond.respond` makes and the decisions a demo duty officer takes on them (the proposal
   followed; a health advisory where the cause calls for one), every event marked ``【演示】`` in its reason and
   ``demo: true`` in its details, the officer an account named as demo (:func:`demo_officer`);
7. ``review`` — the evaluation of the episode the review page opens on (the most significant one after the
   training period, :func:`response.evaluation.most_significant_episode`), kept in the page cache
   (:mod:`lantian.pagecache`): the review page reads it instead of training the effect's models on a visit;
8. ``documents`` — the forecast documents of the held-out winter's issue dates and of the last issue date, kept
   in the page cache: the consultation and duty pages read them (one batch, much faster than one by one).

The status file (:func:`status_path`, JSON) names each step, its state (``pending``, ``running``, ``done``,
``failed``), its detail and duration; the app shows it (``app.py``) and serves the pages whose parts are ready.

It sits beside the command line, above ``forecast``, ``response`` and ``simulate``: nothing in the library imports
it.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

#: the demo world and model (``make run``; keep in step with the Makefile; ``ui/common.py`` imports it)
DEMO = {"seed": 7, "start": "2022-10-01", "end": "2025-03-31", "train_until": "2024-05-31",
        "verify_start": "2024-10-01", "verify_end": "2025-03-30"}
#: the model shipped with the code for the demo world (trained on its first two winters; :data:`FINGERPRINT_FILE`
#: names the world it was trained on)
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "demo-seed7"
FINGERPRINT_FILE = "world_fingerprint.json"
STATUS_FILE = "demo_status.json"
#: how every event of the demo warning history is marked (reason prefix; ``details["demo"]``)
DEMO_MARK = "【演示】"
#: the demo duty officer's login id and name (an account named as demo: never a person)
DEMO_USER = "demo-duty"
DEMO_OFFICER_ZH = "演示值班员（演示账号）"
#: the system's name on the demo proposals
DEMO_SYSTEM_ZH = "lantian（系统建议，演示）"
_ACTION_ZH = {"issue": "发布预警", "upgrade": "升级预警", "downgrade": "降级预警", "lift": "解除预警"}
#: the steps, in order: key → (Chinese, English)
STEPS = {"simulate": ("模拟演示数据（三个冬季）", "simulating the demo world (three winters)"),
         "inputs": ("读取观测、提取气象驱动因子", "reading observations, extracting the meteorological drivers"),
         "model": ("演示模型", "the demo model"),
         "verify": ("在第三个冬季检验模型", "verifying the model on the held-out winter"),
         "archive": ("存档第三个冬季的逐日预报", "archiving the held-out winter's daily forecasts"),
         "history": ("演示值班预警记录", "the demo warning history"),
         "review": ("预先评估最重要的污染过程", "evaluating the most significant episode in advance"),
         "documents": ("预先计算第三个冬季的逐日预报", "computing the held-out winter's forecast documents in advance")}
#: the parts each page needs (the last step it waits for; the consultation and duty pages compute a forecast
#: document the ``documents`` step has not kept yet themselves)
PAGE_NEEDS = {"consultation": "model", "duty": "model", "review": "review", "data": "inputs"}


class DemoError(ValueError):
    """A demo preparation that cannot run (another one is running, a step failed)."""


# ---- the status file ---------------------------------------------------------------------------------------------

def status_path(data) -> Path:
    """The preparation's status file: ``<workspace of data>/demo_status.json`` (:mod:`forecast.workspace`)."""
    from forecast import workspace

    return workspace.cache_dir(data) / STATUS_FILE


def read_status(path) -> dict | None:
    """The status a preparation wrote (``None``: no file, or one being replaced)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


def is_running(status: dict | None) -> bool:
    """Whether a status names a preparation still running (its process alive)."""
    return bool(status) and status.get("state") == "running" and _pid_alive(status.get("pid"))


def step_done(status: dict | None, key: str) -> bool:
    """Whether ``key`` and every step before it are done (no status: nothing is being prepared, so ``True``)."""
    if status is None:
        return True
    keys = [s["key"] for s in status["steps"]]
    if key not in keys:
        return True
    return all(s["state"] in ("done", "skipped") for s in status["steps"][:keys.index(key) + 1])


def progress_text(status: dict, lang: str = "zh") -> str:
    """One line: ``正在准备…（x/y）：<step>`` (``Preparing … (x/y): <step>``)."""
    steps = status["steps"]
    done = sum(s["state"] in ("done", "skipped") for s in steps)
    cur = next((s for s in steps if s["state"] in ("running", "failed")), None)
    name = (cur["zh"] if lang == "zh" else cur["en"]) if cur else ""
    detail = f" {cur['detail']}" if cur and cur.get("detail") else ""
    if status.get("state") == "failed":
        head = f"准备失败（{done}/{len(steps)}）" if lang == "zh" else f"Preparation failed ({done}/{len(steps)})"
        return f"{head}：{name} — {status.get('error', '')}" if lang == "zh" else f"{head}: {name} — {status.get('error', '')}"
    head = f"正在准备…（{done}/{len(steps)}）" if lang == "zh" else f"Preparing … ({done}/{len(steps)})"
    return f"{head}：{name}{detail}" if lang == "zh" else f"{head}: {name}{detail}"


class Status:
    """The status file a preparation keeps up to date (written atomically: temporary file, then rename)."""

    def __init__(self, path, keys=tuple(STEPS)):
        self.path = Path(path) if path is not None else None
        self.state = {"state": "running", "pid": os.getpid(), "started": _now(), "updated": _now(),
                      "steps": [{"key": k, "zh": STEPS[k][0], "en": STEPS[k][1], "state": "pending", "detail": "",
                                 "seconds": None} for k in keys]}
        self._t0: dict[str, float] = {}
        self.write()

    def _step(self, key) -> dict:
        return next(s for s in self.state["steps"] if s["key"] == key)

    def write(self) -> None:
        if self.path is None:
            return
        self.state["updated"] = _now()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.state, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self.path)

    def start(self, key, detail: str = "") -> None:
        self._t0[key] = time.perf_counter()
        self._step(key).update(state="running", detail=detail)
        self.write()

    def detail(self, key, detail: str) -> None:
        self._step(key)["detail"] = detail
        self.write()

    def finish(self, key, detail: str | None = None, *, skipped: bool = False) -> None:
        s = self._step(key)
        s.update(state="skipped" if skipped else "done",
                 seconds=round(time.perf_counter() - self._t0.get(key, time.perf_counter()), 1))
        if detail is not None:
            s["detail"] = detail
        self.write()

    def fail(self, key, error: str) -> None:
        self._step(key).update(state="failed", detail=error)
        self.state.update(state="failed", error=error)
        self.write()

    def close(self) -> None:
        self.state["state"] = "done"
        self.write()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---- the shipped model ---------------------------------------------------------------------------------------------

def world_fingerprint(data) -> str:
    """SHA-256 over the files a model is trained from — the station archive (``stations/``) and the meteorology
    (``meteorology/``), names and contents in name order: the same world gives the same fingerprint."""
    data = Path(data)
    h = hashlib.sha256()
    for sub in ("stations", "meteorology"):
        for f in sorted(p for p in (data / sub).rglob("*") if p.is_file() and not p.name.endswith(".idx")):
            h.update(str(f.relative_to(data)).encode() + b"\0")
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
    return h.hexdigest()


def shipped_model_fits(data, shipped=SHIPPED_MODEL, fingerprint: str | None = None) -> bool:
    """Whether the shipped model (``shipped``) was trained on exactly this world (:data:`FINGERPRINT_FILE`)."""
    meta = Path(shipped) / FINGERPRINT_FILE
    if not (Path(shipped) / "model.json").exists() or not meta.exists():
        return False
    want = json.loads(meta.read_text(encoding="utf-8")).get("fingerprint")
    return want == (fingerprint or world_fingerprint(data))


def ship_model(model_dir, data, shipped=SHIPPED_MODEL) -> Path:
    """Copy a trained demo model to ``shipped`` (without its verification) and record the world it was trained
    on (:func:`world_fingerprint`): what ``make ship-model`` does after training on the demo world."""
    from forecast import forecasting

    shipped = Path(shipped)
    if shipped.exists():
        shutil.rmtree(shipped)
    shutil.copytree(model_dir, shipped, ignore=shutil.ignore_patterns(forecasting.LEVEL_VERIFICATION))
    card_path = shipped / "model_card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["verification"] = None
    card_path.write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    (shipped / FINGERPRINT_FILE).write_text(json.dumps(
        {"fingerprint": world_fingerprint(data), "world": {k: DEMO[k] for k in ("seed", "start", "end")},
         "trained_until": DEMO["train_until"]}, indent=1), encoding="utf-8")
    return shipped


# ---- the demo warning history ------------------------------------------------------------------------------------

def demo_officer(tier: str, area: str | None):
    """The demo duty officer of a tier and area: an account named as demo (:data:`DEMO_USER`), never a person."""
    from response.accounts import Account

    return Account(user=DEMO_USER, name_zh=DEMO_OFFICER_ZH, role="officer", tier=tier,
                   area=None if tier == "region" else area)


def is_demo_event(event: dict) -> bool:
    """Whether an audit event belongs to the demo warning history (marked in its reason and details)."""
    details = event.get("details") or {}
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except ValueError:
            details = {}
    return str(event.get("reason") or "").startswith(DEMO_MARK) and bool(details.get("demo"))


#: the workspace file recording the demo warning history written (model version and counts)
HISTORY_MARKER = "demo_history.json"


def _empty_history(marker: Path, version: str) -> bool:
    """Whether ``marker`` records a demo warning history of ``version`` that wrote no event (an unreadable marker:
    no)."""
    try:
        m = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and m.get("model_version") == version and \
        not any(m.get(k) for k in ("proposed", "decisions", "advisories"))


def warning_history(store, table, *, region=None, progress=None) -> dict:
    """Write the demo warning history of a forecast ``table`` (rows of many issue dates, as
    :func:`forecast.forecasting.forecast_table` makes them) into an open audit ``store``.

    For each issue date in order: the proposals of :func:`response.respond.respond` against the state the store's
    events give (:func:`response.lifecycle.states_from_events`); a ``proposed`` event for every area with its own
    forecast whose action is not ``none``; the demo officer's decision on it (:func:`response.lifecycle.
    decision_event`: the proposed level, the life cycle's issue / upgrade / downgrade / lift); and an ``advisory``
    event where the cause calls for a health advisory instead of a colour (dust, O3 …; it covers the next
    :data:`response.causes.ADVISORY_LEAD_DAYS` days). Every event is marked demo (:func:`is_demo_event`).
    Region-tier (zone) warnings are not recorded.

    Returns
    -------
    dict
        Counts: ``issue_dates``, ``proposed``, ``decisions``, ``advisories``.
    """
    import pandas as pd

    from forecast import forecasting
    from forecast.region import load_region
    from response import audit, causes, lifecycle
    from response import plans as plans_mod
    from response.respond import respond, response_units

    region = region or load_region()
    areas = response_units(region)
    plans = plans_mod.load_plans(region.plans_file, areas=areas, name=region.name)
    adjacency = region.adjacency("city")
    counts = {"issue_dates": 0, "proposed": 0, "decisions": 0, "advisories": 0}
    dates = sorted(pd.to_datetime(table["issue_date"]).unique())
    events = store.events()
    for k, day in enumerate(dates):
        issued = str(pd.Timestamp(day).date())
        rows = table[pd.to_datetime(table["issue_date"]) == day]
        # lead days as plain integers (an archived table gives NumPy arrays of them)
        rows = rows.assign(trigger_days=rows["trigger_days"].map(lambda v: [int(x) for x in v]))
        doc = forecasting.forecast_json(rows)
        states = lifecycle.states_from_events(events, before=issued)
        result = respond(doc, store=None, states=states, region=region, plans=plans, adjacency=adjacency,
                         write_docx=False)
        bulletins = {b.area_id: b.markdown for b in result["bulletin_objects"]}
        version = doc.get("model_version")
        for rec in result["city"] + result["county"]:
            if not rec.get("has_forecast"):
                continue
            if rec["action"] != "none":
                store.append(audit.Event(
                    "proposed", rec["area_id"], rec["tier"], rec["level"] if rec["action"] != "lift" else "none",
                    DEMO_SYSTEM_ZH, valid_from=rec["valid_from"], issue_date=issued,
                    forecast_ref=f"{issued}/{version}", model_version=version,
                    reason=f"{DEMO_MARK}{rec['action']}: {rec['reason']}",
                    details={"action": rec["action"], "proposed": rec["level"], "source": rec["source"],
                             "demo": True}))
                counts["proposed"] += 1
            if rec["action"] in ("issue", "upgrade", "downgrade", "lift"):
                chosen = "none" if rec["action"] == "lift" else rec["level"]
                event = lifecycle.decision_event(
                    {**rec, "level": chosen}, chosen=chosen, current=rec["in_force"],
                    account=demo_officer(rec["tier"], rec["area_id"]), issue_date=issued, model_version=version,
                    reason=f"{DEMO_MARK}演示值班员按系统建议{_ACTION_ZH[rec['action']]}" +
                           (f"：{rec['reason']}" if rec["reason"] else ""),
                    bulletin_text=bulletins.get(rec["area_id"]))
                event.details = {**(event.details or {}), "demo": True}
                store.append(event)
                counts["decisions"] += 1
            if rec["health_advisory"] and rec["level"] == "none":
                start = pd.Timestamp(rec["valid_from"])
                store.append(audit.Event(
                    "advisory", rec["area_id"], rec["tier"], "none", DEMO_OFFICER_ZH, valid_from=start.isoformat(),
                    valid_to=(start + pd.Timedelta(days=causes.ADVISORY_LEAD_DAYS - 1)).isoformat(),
                    issue_date=issued, forecast_ref=f"{issued}/{version}", model_version=version,
                    reason=f"{DEMO_MARK}健康提示（{causes.CAUSE_ZH.get(rec['cause'], rec['cause'])}）：{rec['reason']}",
                    bulletin_text=bulletins.get(rec["area_id"]),
                    details={"cause": rec["cause"], "response_kind": rec["response_kind"], "login": DEMO_USER,
                             "demo": True}))
                counts["advisories"] += 1
        events = store.events()
        counts["issue_dates"] += 1
        if progress:
            progress(k + 1, len(dates))
    return counts


# ---- the preparation ---------------------------------------------------------------------------------------------

def _missing_dates(data, version, start, end) -> list:
    """The issue dates of [start, end] without an archived forecast of model ``version``."""
    import pandas as pd

    from forecast import archive

    folder = archive.archive_dir(data) / version
    have = {p.stem for p in folder.glob("*.parquet")} if folder.is_dir() else set()
    return [d for d in pd.date_range(start, end) if f"{d:%Y%m%d}" not in have]


def _verified(model_dir, start, end) -> bool:
    """Whether the model's card holds a verification of exactly [start, end] and its level record is there."""
    from forecast import forecasting

    path = Path(model_dir) / "model_card.json"
    if not path.exists() or not (Path(model_dir) / forecasting.LEVEL_VERIFICATION).exists():
        return False
    card = json.loads(path.read_text(encoding="utf-8"))
    return (card.get("verification") or {}).get("period") == [str(start), str(end)]


def _model_at_hand(model_dir: Path, data, shipped, log):
    """The model without training: ``(model, "present")`` when ``model_dir`` holds a loadable one, ``(model,
    "shipped")`` after copying the shipped model there when it was trained on this world, else ``(None, None)``."""
    from forecast import model as M

    if (model_dir / "model.json").exists():
        try:
            return M.Forecaster.load(model_dir), "present"
        except M.ModelError as exc:
            log(f"{model_dir}: {exc}; preparing a new one")
    if shipped is not None and shipped_model_fits(data, shipped):
        log(f"using the shipped model {shipped} (trained on this world)")
        if model_dir.exists():
            shutil.rmtree(model_dir)
        shutil.copytree(shipped, model_dir, ignore=shutil.ignore_patterns(FINGERPRINT_FILE))
        return M.Forecaster.load(model_dir), "shipped"
    return None, None


def prepare(data, model_dir, *, seed: int = DEMO["seed"], start: str = DEMO["start"], end: str = DEMO["end"],
            train_until: str = DEMO["train_until"], verify_start: str = DEMO["verify_start"],
            verify_end: str = DEMO["verify_end"], shipped=SHIPPED_MODEL, rounds: int | None = None,
            status_file="default", log=print) -> dict:
    """Prepare the demo (module docstring): each step skipped when its product is there; returns what was done.

    Parameters
    ----------
    data, model_dir : path-like
        The demo world's folder (simulated when it holds no world) and the model folder.
    seed, start, end : the world (``lantian simulate``); ``train_until``: the last training day;
    verify_start, verify_end : the held-out winter's first and last issue date.
    shipped : path-like or None
        A shipped model to use when it was trained on this world (:func:`shipped_model_fits`); ``None``: train.
    rounds : int, optional
        Boosting rounds when training (default the forecaster's).
    status_file : path-like, "default" or None
        Where the progress is kept (default :func:`status_path`); ``None``: nowhere.
    log : callable
        Called with one line per step.

    Raises
    ------
    DemoError
        Another preparation of the same world is running, or a step failed (the status file says which).
    """
    import pandas as pd

    from forecast import archive, decision, forecasting
    from forecast import features as F
    from forecast import workspace
    from forecast.region import load_region
    from response import audit

    data, model_dir = Path(data), Path(model_dir)
    if not workspace.is_demo_world(data):  # a folder simulate would refuse: refused before anything is written
        from simulate import SimulationError, check_out_folder

        try:
            check_out_folder(data)
        except SimulationError as exc:
            raise DemoError(str(exc)) from None
    path = status_path(data) if status_file == "default" else status_file
    if path is not None and is_running(read_status(path)) and read_status(path).get("pid") != os.getpid():
        raise DemoError(f"{data}: a demo preparation is already running (pid {read_status(path)['pid']}; "
                        f"status in {path})")
    status = Status(path)
    done: dict = {}
    key = "simulate"
    try:
        status.start(key)
        if not workspace.is_demo_world(data):
            from simulate import simulate

            log(f"simulating the demo world into {data} (seed {seed}, {start} … {end})")
            simulate(data, seed=seed, start=start, end=end, progress=lambda d, n: status.detail(key, f"{d}/{n}"))
            status.finish(key)
        else:
            status.finish(key, skipped=True)

        # the model first where it needs no inputs (present, or shipped for this world): then the inputs are read
        # only when a later step has work to do
        model, source = _model_at_hand(model_dir, data, shipped, log)
        inputs = None

        def need_inputs():
            nonlocal inputs
            if inputs is None:
                inputs = forecasting.load_inputs(data, region=region)
            return inputs

        key = "inputs"
        status.start(key)
        region = load_region(data=data)
        if model is None or not _verified(model_dir, verify_start, verify_end) or \
                _missing_dates(data, model.version, verify_start, verify_end):
            need_inputs()
            status.finish(key)
        else:
            status.finish(key, "已缓存 / cached", skipped=True)

        key = "model"
        status.start(key)
        if model is not None:
            status.finish(key, {"present": "已有模型 / model present",
                                "shipped": "随代码提供的演示模型 / the shipped demo model"}[source],
                          skipped=source == "present")
            done["model"] = source
        else:
            log(f"training the demo model into {model_dir} (until {train_until})")
            model = forecasting.train(data, model_dir, until=train_until, inputs=need_inputs(),
                                      **({"rounds": rounds} if rounds else {}),
                                      progress=lambda d, n: status.detail(key, f"{d}/{n}"))
            status.finish(key, "训练 / trained")
            done["model"] = "trained"

        key = "verify"
        status.start(key)
        if _verified(model_dir, verify_start, verify_end):
            status.finish(key, skipped=True)
        else:
            log(f"verifying on {verify_start} … {verify_end}")
            res = forecasting.run_verify(data, model_dir, verify_start, verify_end, inputs=need_inputs())
            done["verify"] = res["cases"]
            status.finish(key, f"{res['cases']} cases")

        key = "archive"
        status.start(key)
        missing = _missing_dates(data, model.version, verify_start, verify_end)
        table = None
        if missing:
            log(f"archiving {len(missing)} forecasts of {verify_start} … {verify_end}")
            thresholds = decision.thresholds_in_force(data, region=region)
            clim = F.complete_climatology(pd.read_parquet(model_dir / "climatology.parquet")
                                          .set_index(["area_id", "month"]))
            table = forecasting.forecast_table(model, need_inputs(), pd.date_range(verify_start, verify_end), clim,
                                               explain=False, thresholds=thresholds)
            for d in missing:
                archive.store(table[table["issue_date"] == d], data, model.version, d)
            done["archive"] = len(missing)
            status.finish(key, f"{len(missing)}")
        else:
            status.finish(key, skipped=True)

        key = "history"
        status.start(key)
        # a history that proposed nothing (no episode inside the issuing window) leaves no event behind: a marker
        # says it was written for this model, so a second run does not write it again
        marker = workspace.cache_dir(data) / HISTORY_MARKER
        with audit.open_store(workspace.audit_path(data)) as store:
            has_history = any(is_demo_event(e) for e in store.events()) or _empty_history(marker, model.version)
            if not has_history:
                if table is None:
                    table = archive.archived_forecasts(data, model_version=model.version)
                    table = table[table["issue_date"].between(pd.Timestamp(verify_start), pd.Timestamp(verify_end))]
                log("writing the demo warning history into the audit store")
                done["history"] = warning_history(store, table, region=region,
                                                  progress=lambda d, n: status.detail(key, f"{d}/{n}"))
                marker.write_text(json.dumps({"model_version": model.version, **done["history"]}), encoding="utf-8")
                status.finish(key, f"{done['history']['decisions']} decisions")
            else:
                status.finish(key, skipped=True)

        key = "review"
        status.start(key)
        reviewed = prepare_review(data, model_dir, need_inputs())
        done["review"] = reviewed
        status.finish(key, "已缓存 / cached" if reviewed == "cached" else reviewed or "—",
                      skipped=reviewed in ("cached", None))

        key = "documents"
        status.start(key)
        n = prepare_documents(data, model_dir, need_inputs(), verify_start, verify_end,
                              progress=lambda d, n: status.detail(key, f"{d}/{n}"))
        done["documents"] = n
        status.finish(key, str(n), skipped=n == 0)
    except Exception as exc:
        status.fail(key, f"{type(exc).__name__}: {exc}")
        raise DemoError(f"demo preparation failed at {key}: {exc}") from exc
    status.close()
    done["status"] = status.state
    return done


# ---- the pages' content, computed in advance -------------------------------------------------------------------

def review_episode(inputs, model_dir):
    """The episode the review page opens on: ``(start, end)`` of the most significant episode after the model's
    training period (:func:`response.evaluation.most_significant_episode`), else the last one; ``None`` without
    an episode."""
    from forecast import modelcard
    from response import episodes, evaluation

    eps = episodes.detect_episodes(inputs.obs.daily)
    if eps.empty:
        return None
    i = evaluation.most_significant_episode(eps, after=modelcard.last_training_day(model_dir))
    ep = eps.iloc[i if i is not None else len(eps) - 1]
    return ep["start"], ep["end"]


def prepare_review(data, model_dir, inputs, *, audit=None) -> str | None:
    """Keep the evaluation of the review page's first episode (:func:`review_episode`) in the page cache, against
    the warnings record the page reads (the audit store ``audit``, default the workspace's). Returns ``"cached"``
    when it was kept already, the episode's days when computed, ``None`` without an episode."""
    from forecast import workspace
    from response import episodes

    from . import pagecache

    ep = review_episode(inputs, model_dir)
    if ep is None:
        return None
    warnings = episodes.warnings_record(data, audit or workspace.audit_path(data))
    key = pagecache.review_key(data, ep[0], ep[1], model_dir=str(model_dir), warnings=warnings, inputs=inputs)
    if pagecache.read(data, "review", key)[0] is not None:
        return "cached"
    pagecache.episode_review(data, ep[0], ep[1], model_dir=str(model_dir), warnings=warnings, inputs=inputs)
    return f"{ep[0]:%Y-%m-%d} … {ep[1]:%Y-%m-%d}"


def document_dates(inputs, verify_start, verify_end, model_dir=None) -> list:
    """The issue dates whose forecast documents the preparation keeps, most wanted first: the last one (the
    pages' default), those of the review's first episode (:func:`review_episode`, from three days before it), then
    the rest of the held-out winter from its end backwards."""
    import pandas as pd

    from forecast import products

    dates = products.issue_dates(inputs.obs.daily, inputs.met_lead)
    if not len(dates):
        return []
    held_out = [d for d in dates if pd.Timestamp(verify_start) <= d <= pd.Timestamp(verify_end)]
    ep = review_episode(inputs, model_dir) if model_dir is not None else None
    episode = [d for d in dates if ep and ep[0] - pd.Timedelta(days=3) <= d <= ep[1]]
    return list(dict.fromkeys([dates[-1], *episode, *held_out[::-1]]))


def prepare_documents(data, model_dir, inputs, verify_start, verify_end, *, progress=None) -> int:
    """Keep the forecast documents of :func:`document_dates` in the page cache; how many were computed."""
    from . import pagecache

    return pagecache.precompute_forecasts(data, model_dir, document_dates(inputs, verify_start, verify_end,
                                                                          model_dir),
                                          inputs=inputs, progress=progress)
