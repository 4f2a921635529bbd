"""The daily run (``lantian cycle``): one idempotent run of the consultation day, on a timer.

:func:`run_cycle` sequences, for an issue date (default: today, China Standard Time):

1. **meteorology** — the issue date's forecast run from ECMWF open data (:mod:`forecast.loaders`, an injectable
   client) or from a folder another system fills; ERA5 analyses (complete months) or a folder of analyses;
2. **stations** — ``china_sites_YYYYMMDD.csv`` of the last days from a folder or a URL pattern (an injectable
   fetcher), landed in ``DIR/stations`` without clobbering what is there (a file that grew replaces the shorter
   one; a different one is kept and reported);
3. **freshness** — meteorology age, forecast-run lead days, stations reporting, station archive lag against the
   configured limits (:mod:`forecast.freshness`); an older run stands in for a stale one (its age stated);
4. **forecast** — :func:`forecast.forecasting.run_forecast` (archived), the document marked ``degraded`` with the
   reasons when a check is not ``ok``;
5. **proposals** — :func:`response.respond.respond` per tier against the warning states of the audit store (read,
   never written: issuing stays a human decision);
6. **briefing** — the consultation briefing (:mod:`response.briefing`), showing the degraded reasons;
7. **notification** — e-mail and/or webhook (:mod:`response.notify`) on the first run of the day, on a change, a
   degraded or a refused run (``notify.when``); a failed target is recorded, never fatal.

It refuses (state ``refused``, with the reason; ``lantian cycle`` exits 2) only when nothing honest can be
produced: no data, no model, no forecast run within the fallback age, no observations to start from.

Reasons — a refusal's, a degraded check's, a problem bringing an input in — are kept as codes with parameters
(:func:`forecast.freshness.reason`) in the records and the log, and rendered in the reader's language through the
nomenclature (:func:`forecast.freshness.reason_text`) where they are shown: the status page and the notification
(Chinese by default, English on the switch), the forecast document and the briefing (both languages, written by
the run), the command line (English).

A rerun the same day whose inputs (file names, sizes, times; model; configuration) did not change does nothing
but record that (``unchanged``); otherwise it forecasts again and reports what changed since the day's previous
run (levels, proposals, AQI medians per area). Each run appends JSON lines to ``<workspace>/cycle/log.jsonl``
and its record to ``runs.jsonl``, and replaces ``status.json`` atomically (:func:`read_status`: what the app's
status page shows); its products go to ``<workspace>/cycle/<YYYYMMDD>/<run id>/``.

It sits beside the command line, above ``forecast`` and ``response`` (as :mod:`lantian.demo`): nothing in the
library imports it.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import yaml

from forecast.freshness import reason as _reason
from forecast.freshness import reason_text
from forecast.tables import load_yaml

CYCLE_DIR = "cycle"
STATUS_FILE = "status.json"
RUNS_FILE = "runs.jsonl"
LOG_FILE = "log.jsonl"
EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "config" / "cycle.yaml"
#: the states of a run
STATES = ("ok", "degraded", "refused")
MET_SOURCES = ("opendata", "folder", "none")
ANALYSIS_SOURCES = ("era5", "folder", "none")
STATION_SOURCES = ("folder", "url", "none")
NOTIFY_WHEN = ("change", "always", "problems", "never")
LANGS = ("zh", "en")
#: the configuration's layout and defaults (``config/cycle.yaml`` documents each key)
DEFAULTS = {
    "model": None,
    "meteorology": {"source": "none", "folder": None, "run_hour": 0},
    "analyses": {"source": "none", "folder": None},
    "stations": {"source": "none", "folder": None, "url": None, "days_back": 2},
    "limits": {"meteorology_max_age_hours": 24.0, "meteorology_fallback_hours": 96.0, "forecast_lead_days": 7,
               "station_min_share": 0.75, "station_max_age_hours": 3.0},
    "briefing": {"lang": "zh", "maps": True},
    "notify": {"when": "change", "lang": "zh", "aqi_change": 10, "timeout_seconds": 10, "email": None,
               "webhook": None},
}
_CHOICES = {("meteorology", "source"): MET_SOURCES, ("analyses", "source"): ANALYSIS_SOURCES,
            ("stations", "source"): STATION_SOURCES, ("notify", "when"): NOTIFY_WHEN,
            ("notify", "lang"): LANGS, ("briefing", "lang"): LANGS, ("meteorology", "run_hour"): (0, 12)}
_STATE_ZH = {"ok": "正常", "degraded": "数据降级", "refused": "未能预报", "unchanged": "无变化"}
_STATE_EN = {"ok": "ok", "degraded": "degraded", "refused": "refused", "unchanged": "unchanged"}


class CycleError(ValueError):
    """A configuration or an invocation the cycle cannot run with (names the file, key, value and the allowed)."""


# ---- configuration -------------------------------------------------------------------------------------------------

def check_config(raw, source="configuration") -> dict:
    """A configuration (a mapping, as :data:`DEFAULTS`) checked and completed with the defaults.

    Raises
    ------
    CycleError
        An unknown section or key, a value outside its allowed set, a source without its folder/URL, limits that
        cannot be used (:class:`forecast.freshness.Limits`), notification targets that cannot be used
        (:func:`response.notify.check_targets`).
    """
    from forecast.freshness import FreshnessError, Limits
    from response.notify import NotifyConfigError, check_targets

    raw = raw or {}
    if not isinstance(raw, dict):
        raise CycleError(f"{source}: expected a mapping of {', '.join(DEFAULTS)}, got {type(raw).__name__}")
    cfg = copy.deepcopy(DEFAULTS)
    for section, value in raw.items():
        if section not in DEFAULTS:
            raise CycleError(f"{source}: unknown section {section!r}; allowed: {', '.join(DEFAULTS)}")
        if section == "model":
            if value is not None and not isinstance(value, str):
                raise CycleError(f"{source}: model: {value!r} is not a folder path")
            cfg["model"] = value
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            raise CycleError(f"{source}: {section}: expected a mapping, got {value!r}")
        for key, v in value.items():
            if key not in DEFAULTS[section]:
                raise CycleError(f"{source}: {section}.{key}: unknown key; allowed: {', '.join(DEFAULTS[section])}")
            allowed = _CHOICES.get((section, key))
            if allowed is not None and v not in allowed:
                raise CycleError(f"{source}: {section}.{key}: {v!r} is not allowed; allowed: "
                                 f"{', '.join(map(str, allowed))}")
            cfg[section][key] = v
    for section in ("meteorology", "analyses", "stations"):
        s = cfg[section]
        if s["source"] == "folder" and not s.get("folder"):
            raise CycleError(f"{source}: {section}.folder: missing (source is folder)")
    st = cfg["stations"]
    if st["source"] == "url" and not (isinstance(st["url"], str) and "{date" in st["url"]
                                      and st["url"].startswith(("http://", "https://", "file://"))):
        raise CycleError(f"{source}: stations.url: {st['url']!r} must be an http(s):// or file:// URL with {{date:%Y%m%d}}")
    days = st["days_back"]
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 31:
        raise CycleError(f"{source}: stations.days_back: {days!r} is not a whole number of days in 0 … 31")
    for key in ("aqi_change", "timeout_seconds"):
        v = cfg["notify"][key]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
            raise CycleError(f"{source}: notify.{key}: {v!r} is not a number > 0")
    if not isinstance(cfg["briefing"]["maps"], bool):
        raise CycleError(f"{source}: briefing.maps: {cfg['briefing']['maps']!r} is not true or false")
    try:
        lim = cfg["limits"]
        for key in ("meteorology_max_age_hours", "meteorology_fallback_hours", "station_max_age_hours"):
            if isinstance(lim[key], int) and not isinstance(lim[key], bool):
                lim[key] = float(lim[key])
        Limits(**lim)
        targets = check_targets({k: cfg["notify"][k] for k in ("email", "webhook") if cfg["notify"][k]})
    except (FreshnessError, NotifyConfigError) as exc:
        raise CycleError(f"{source}: {exc}") from None
    cfg["notify"].update({k: targets.get(k) for k in ("email", "webhook")})
    return cfg


def load_config(path=None) -> dict:
    """The configuration of a YAML file (:func:`check_config`; relative folders are taken from the file's folder);
    ``None``: the defaults (no sources, no notification)."""
    if path is None:
        return check_config({})
    path = Path(path)
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CycleError(f"{path}: no such configuration file") from None
    except yaml.YAMLError as exc:
        raise CycleError(f"{path}: not YAML ({' '.join(str(exc).split())})") from None
    cfg = check_config(raw, str(path))
    for section in ("meteorology", "analyses", "stations"):
        folder = cfg[section].get("folder")
        if folder and not Path(folder).is_absolute():
            cfg[section]["folder"] = str((path.parent / folder).resolve())
    if cfg["model"] and not Path(cfg["model"]).is_absolute():
        cfg["model"] = str((path.parent / cfg["model"]).resolve())
    return cfg


# ---- time ------------------------------------------------------------------------------------------------------

def _utc_now(now=None) -> pd.Timestamp:
    """``now`` (or the clock) as naive UTC."""
    t = pd.Timestamp(now if now is not None else datetime.now(timezone.utc))
    return t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t


def default_issue_date(now=None) -> pd.Timestamp:
    """Today in China Standard Time (the consultation's day)."""
    from forecast.nomenclature import CST_OFFSET

    return (_utc_now(now) + CST_OFFSET).normalize()


def reference_time(issued, now=None) -> pd.Timestamp:
    """What the inputs are judged at [naive UTC]: the issue time (16:00 CST), or now when that is earlier."""
    from forecast.freshness import issue_time_utc

    return min(issue_time_utc(issued), _utc_now(now))


# ---- where the records are ---------------------------------------------------------------------------------------

def _cycle_root(data, cache=None, *, create: bool = True) -> Path:
    from forecast import workspace

    if create:
        return workspace.output_dir(data, CYCLE_DIR, cache=cache)
    return (Path(cache) if cache else Path(data) / ".lantian") / CYCLE_DIR


def status_path(data, cache=None, *, create: bool = True) -> Path:
    """``<workspace>/cycle/status.json`` (``create=False``: the path guessed without creating the workspace)."""
    if create:
        from forecast import workspace

        return workspace.cache_dir(data, cache) / CYCLE_DIR / STATUS_FILE
    return _cycle_root(data, cache, create=False) / STATUS_FILE


def read_status(data, cache=None) -> dict | None:
    """The last cycle's status record (``None``: no cycle has run, or the file is being replaced)."""
    path = status_path(data, cache)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_runs(data, cache=None) -> list[dict]:
    """Every run's record, oldest first (a damaged line is skipped)."""
    from forecast import workspace

    records, _ = workspace.read_jsonl(workspace.cache_dir(data, cache) / CYCLE_DIR / RUNS_FILE)
    return [r for _, r in records]


def _write_json(path: Path, obj) -> None:
    """``obj`` as JSON to ``path`` atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)


class _Log:
    """The run's structured log: JSON lines to ``log.jsonl`` (none in a dry run) and one text line to ``echo``."""

    def __init__(self, path: Path | None, run_id: str, echo=None):
        self.path, self.run_id, self.echo, self.lines = path, run_id, echo, []

    def __call__(self, step: str, message: str, **fields) -> None:
        rec = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "run": self.run_id, "step": step,
               "message": message, **fields}
        self.lines.append(rec)
        if self.path is not None:
            from forecast import workspace

            try:
                workspace.append_line(self.path, json.dumps(rec, ensure_ascii=False, default=str))
            except (OSError, ValueError):
                pass  # the log is a record, not a reason to stop the day's run
        if self.echo:
            self.echo(f"[{step}] {message}")


# ---- bringing the inputs in ----------------------------------------------------------------------------------------

def land(content: bytes, target: Path, *, dry_run: bool = False) -> str:
    """Put ``content`` at ``target`` without clobbering: ``new`` (there was no file), ``same`` (identical),
    ``grown`` (the file there is a prefix of ``content`` — a day's archive with more hours now — and is
    replaced), ``kept`` (a different file is there and stays). Written via a temporary file and a rename."""
    target = Path(target)
    if target.exists():
        old = target.read_bytes()
        if old == content:
            return "same"
        if not (len(content) > len(old) and content.startswith(old)):
            return "kept"
        state = "grown"
    else:
        state = "new"
    if not dry_run:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(content)
        os.replace(tmp, target)
    return state


def _fetch_url(url: str, timeout: float) -> bytes | None:
    """The bytes at ``url`` (``None``: not there, HTTP 404 or a missing file)."""
    import urllib.error

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (scheme checked in check_config)
            return resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, FileNotFoundError):
            return None
        raise


def station_days(issued, now=None, days_back: int = 2) -> list[pd.Timestamp]:
    """The CST days whose station files a run fetches: ``days_back`` days before the issue date up to the issue
    date (or today, when earlier)."""
    last = min(pd.Timestamp(issued).normalize(), default_issue_date(now))
    return list(pd.date_range(last - pd.Timedelta(days=days_back), last, freq="D"))


def fetch_stations(data, cfg: dict, issued, *, now=None, fetcher=None, dry_run: bool = False) -> dict:
    """Bring the station archive in (``cfg["stations"]``): per day ``china_sites_YYYYMMDD.csv`` (and
    ``sites.csv`` when ``DIR/stations`` has none) landed with :func:`land`.

    Returns ``{"source", "files": [{"file", "state"}], "problems": [...]}``; a file that cannot be fetched is a
    problem, not an exception."""
    st = cfg["stations"]
    out = {"source": st["source"], "files": [], "problems": []}
    if st["source"] == "none":
        return out
    dest = Path(data) / "stations"
    timeout = cfg["notify"]["timeout_seconds"]
    names = [f"china_sites_{d:%Y%m%d}.csv" for d in station_days(issued, now, st["days_back"])]
    if not (dest / "sites.csv").exists():
        names = ["sites.csv", *names]
    for name in names:
        try:
            if st["source"] == "folder":
                src = Path(st["folder"]) / name
                content = src.read_bytes() if src.exists() else None
                where = str(src)
            else:
                day = pd.Timestamp(name[len("china_sites_"):-4]) if name != "sites.csv" else None
                where = st["url"].format(date=day) if day is not None else \
                    st["url"].rsplit("/", 1)[0] + "/sites.csv"
                content = (fetcher or (lambda u: _fetch_url(u, timeout)))(where)
        except Exception as exc:  # a fetcher's error of any kind: recorded, the run goes on
            out["problems"].append(_reason("fetch_failed", file=name, error=_error(exc)))
            continue
        if content is None:
            out["files"].append({"file": name, "state": "absent", "from": where})
            continue
        state = land(content, dest / name, dry_run=dry_run)
        out["files"].append({"file": name, "state": state, "from": where})
        if state == "kept":
            out["problems"].append(_reason("file_kept", file=str(dest / name), source=str(where)))
    return out


def _error(exc: BaseException) -> str:
    """An exception as a reason's technical detail: its type and message on one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _run_init(issued, run_hour: int) -> pd.Timestamp:
    """The initialisation [UTC] of the issue date's run at ``run_hour`` (the run of that UTC day)."""
    return pd.Timestamp(issued).normalize() + pd.Timedelta(hours=run_hour)


def fetch_meteorology(data, cfg: dict, issued, *, now=None, client=None, era5_client=None,
                      dry_run: bool = False) -> dict:
    """Bring the meteorology in: the issue date's forecast run (open data or a folder) and analyses (ERA5 complete
    months or a folder). Files already present are kept; failures are problems, not exceptions.

    Returns ``{"source", "run", "files": [{"file", "state"}], "analyses": {...}, "problems": [...]}``."""
    from forecast import loaders

    met = cfg["meteorology"]
    init = _run_init(issued, met["run_hour"])
    out = {"source": met["source"], "run": f"{init:%Y-%m-%d %H} UTC", "files": [], "problems": []}
    run = f"{init:%Y-%m-%d %H}"
    root = Path(data) / "meteorology"
    if met["source"] == "opendata":
        reqs = loaders.opendata_requests(init, data)
        out["files"] = [{"file": str(r.target.relative_to(data)), "state": "present" if r.target.exists() else
                         "fetch"} for r in reqs]
        if init > _utc_now(now):
            out["problems"].append(_reason("run_not_yet", run=run))
        elif not dry_run:
            try:
                loaders.download_opendata(reqs, client=client)
                for f in out["files"]:
                    f["state"] = "new" if f["state"] == "fetch" else "same"
            except Exception as exc:  # the network, the client, a missing extra: recorded, the run goes on
                out["problems"].append(_reason("opendata_failed", run=run, error=_error(exc)))
    elif met["source"] == "folder":
        src_root = Path(met["folder"])
        tag = f"{init:%Y%m%d%H}"
        src = src_root / tag
        if not src.is_dir():
            out["problems"].append(_reason("run_folder_missing", folder=str(src)))
        else:
            for f in sorted(p for p in src.iterdir() if p.is_file() and not p.name.endswith(".idx")):
                state = land(f.read_bytes(), root / "forecast" / tag / f.name, dry_run=dry_run)
                out["files"].append({"file": f"meteorology/forecast/{tag}/{f.name}", "state": state})
                if state == "kept":
                    out["problems"].append(_reason("file_kept", file=str(root / "forecast" / tag / f.name),
                                                   source=str(f)))
    an = cfg["analyses"]
    ana = {"source": an["source"], "files": []}
    if an["source"] == "era5":
        # complete months only: ERA5 runs about 5 days behind, and a month's file is fetched once
        last = (pd.Timestamp(issued) - pd.Timedelta(days=5)).to_period("M") - 1
        reqs = loaders.era5_requests(last.start_time, last.end_time.normalize(), data)
        ana["files"] = [{"file": str(r.target.relative_to(data)), "state": "present" if r.target.exists() else
                         "fetch"} for r in reqs]
        if not dry_run:
            try:
                loaders.download_era5(reqs, client=era5_client)
                for f in ana["files"]:
                    f["state"] = "new" if f["state"] == "fetch" else "same"
            except Exception as exc:
                out["problems"].append(_reason("era5_failed", month=str(last), error=_error(exc)))
    elif an["source"] == "folder":
        src = Path(an["folder"])
        for f in sorted(p for p in src.glob("*") if p.suffix.lower() in (".grib", ".grib2", ".grb", ".grb2")):
            state = land(f.read_bytes(), root / "analysis" / f.name, dry_run=dry_run)
            ana["files"].append({"file": f"meteorology/analysis/{f.name}", "state": state})
    out["analyses"] = ana
    return out


def run_coverage(data, init, issued) -> dict | None:
    """The lead days of issue date ``issued`` the forecast run initialised at ``init`` covers, from the steps its
    GRIB files hold (:func:`forecast.gribread.run_steps`, headers only; :func:`forecast.freshness.steps_lead_days`):
    the files under ``meteorology/forecast/`` in a folder named by the run (``YYYYMMDDHH``). ``None`` when there is
    no such file or none holds the run (the caller falls back on the processed meteorology).

    Returns
    -------
    dict or None
        :func:`forecast.freshness.steps_lead_days`'s result plus ``files`` (how many were read).
    """
    from forecast import freshness, gribread, meteorology

    if init is None:
        return None
    tag = f"{pd.Timestamp(init):%Y%m%d%H}"
    try:
        files = [f for f in meteorology.grib_files(data)[1] if tag in f.parts[:-1]]
        steps = gribread.run_steps(files).get(pd.Timestamp(init)) if files else None
    except (ValueError, OSError):  # unreadable: the forecast's own reading reports it
        return None
    if not steps:
        return None
    return {**freshness.steps_lead_days(init, steps, issued), "files": len(files)}


# ---- what a run compares ---------------------------------------------------------------------------------------

def inputs_fingerprint(data, *, model_dir, cfg: dict, issued) -> str:
    """A digest of what a run's products depend on: every file of ``stations/`` and ``meteorology/`` (name, size,
    modification time), the model's files, the configuration and the issue date."""
    h = hashlib.sha1(f"{pd.Timestamp(issued).date()}\n{json.dumps(cfg, sort_keys=True, default=str)}".encode())
    for root in (Path(data) / "stations", Path(data) / "meteorology", Path(model_dir)):
        if not root.is_dir():
            continue
        for dirpath, _, files in sorted(os.walk(root, followlinks=True)):
            for name in sorted(files):
                if name.endswith((".idx", ".part", ".tmp")):
                    continue
                p = Path(dirpath) / name
                try:
                    s = p.stat()
                except OSError:
                    continue
                h.update(f"{p.relative_to(root.parent)}\0{s.st_size}\0{s.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _proposal_map(decisions: dict) -> dict:
    return {f"{tier}:{r['area_id']}": {"level": r["level"], "action": r["action"]}
            for tier in ("city", "county") for r in decisions.get(tier, []) if r.get("has_forecast", True)}


def changes(before: dict | None, after: dict, *, aqi_change: float = 10) -> list[dict]:
    """What changed between two runs' summaries (``{"levels": {area: level}, "aqi": {area: [q50 per lead day]},
    "proposals": {tier:area: {level, action}}}``): one entry per area and field (``level``, ``proposal``,
    ``aqi_q50`` when a lead day's median moved by at least ``aqi_change``), ``before`` and ``after``."""
    if before is None:
        return []
    out = []
    for area in sorted(set(before["levels"]) | set(after["levels"])):
        a, b = before["levels"].get(area), after["levels"].get(area)
        if a != b:
            out.append({"area_id": area, "field": "level", "before": a, "after": b})
        qa, qb = before["aqi"].get(area) or [], after["aqi"].get(area) or []
        deltas = [y - x for x, y in zip(qa, qb)]
        if deltas:
            k = max(range(len(deltas)), key=lambda i: abs(deltas[i]))
            if abs(deltas[k]) >= aqi_change:
                out.append({"area_id": area, "field": "aqi_q50", "lead_day": k + 1, "before": round(qa[k]),
                            "after": round(qb[k]), "delta": round(deltas[k])})
    for key in sorted(set(before["proposals"]) | set(after["proposals"])):
        a, b = before["proposals"].get(key), after["proposals"].get(key)
        if a != b:
            tier, area = key.split(":", 1)
            out.append({"area_id": area, "tier": tier, "field": "proposal", "before": a, "after": b})
    return out


def _summary(doc: dict, decisions: dict) -> dict:
    return {"levels": {a["area_id"]: a["level"] for a in doc["areas"]},
            "aqi": {a["area_id"]: [float(d["aqi"]["q50"]) for d in sorted(a["days"], key=lambda d: d["lead_day"])]
                    for a in doc["areas"]},
            "proposals": _proposal_map(decisions)}


# ---- the notification ------------------------------------------------------------------------------------------

def should_notify(when: str, record: dict) -> tuple[bool, str]:
    """Whether a run notifies (``notify.when``) and why."""
    state, problems = record["state"], record["state"] in ("degraded", "refused")
    if when == "never":
        return False, "never"
    if when == "always":
        return True, "always"
    if when == "problems":
        return (problems, state) if problems else (False, "no problem")
    if record.get("unchanged"):
        return False, "inputs unchanged"
    if problems and record.get("previous_state") != state:
        return True, state
    if record.get("first_of_day"):
        return True, "first run of the day"
    if record.get("changes"):
        return True, "changed"
    if state == "refused":
        return True, "refused"
    return False, "nothing changed"


def check_text(check: dict, lang: str = "zh") -> str:
    """A freshness check's reason in ``lang`` (a record written before the codes: its own sentence)."""
    if "reason" in check:
        return reason_text(check["reason"], lang)
    return check.get(lang) or check.get("zh") or ""


def degraded_texts(degraded: dict | None, lang: str = "zh") -> list[str]:
    """Why a run is degraded, one sentence per check, in ``lang``."""
    if not degraded:
        return []
    if "reasons_en" in degraded:  # a record written before the codes: its sentences
        return list(degraded["reasons"] if lang == "zh" else degraded["reasons_en"])
    return [reason_text(r, lang) for r in degraded.get("reasons") or []]


def message(record: dict, lang: str = "zh", names: dict | None = None):
    """The notification of a run's record (:class:`response.notify.Message`): subject, text, and the record's
    essentials as the webhook's payload."""
    from forecast import labels
    from response.notify import Message

    zh = lang == "zh"
    names = names or {}
    state = "unchanged" if record.get("unchanged") else record["state"]
    head = (f"【蓝天】{record['issue_date']} 日常运行：{_STATE_ZH[state]}" if zh else
            f"[lantian] {record['issue_date']} daily run: {_STATE_EN[state]}")
    lines = [head, ""]
    if record["state"] == "refused":
        lines.append(("未能预报：" if zh else "No forecast: ") + reason_text(record.get("reason"), lang))
    deg = record.get("degraded")
    if deg:
        lines.append("数据降级：" if zh else "Degraded:")
        lines += [f"  - {r}" for r in degraded_texts(deg, lang)]
    if record.get("checks"):
        lines.append("数据时效与完整性：" if zh else "Freshness and completeness:")
        lines += [f"  [{labels.label('cycle_states', c['state'], lang)}] {check_text(c, lang)}"
                  for c in record["checks"]]
    props = (record.get("proposals") or {}).get("city") or {}
    if record["state"] != "refused":
        warned = {a: p for a, p in props.items() if p["level"] != "none" or p["action"] != "none"}
        lines.append("盟市预警建议（待值班员决定）：" if zh else "Proposals per league/city (for the duty officer):")
        if not warned:
            lines.append("  各盟市均无预警建议" if zh else "  no warning proposed")
        for area, p in warned.items():
            lines.append(f"  {labels.area_label(area, names, lang)}：{labels.label('levels', p['level'], lang)}"
                         f"（{labels.label('actions', p['action'], lang)}）" if zh else
                         f"  {labels.area_label(area, names, lang)}: {labels.label('levels', p['level'], lang)} "
                         f"({labels.label('actions', p['action'], lang)})")
    if record.get("changes"):
        lines.append("与本日上次运行相比的变化：" if zh else "Changes since the day's previous run:")
        for c in record["changes"]:
            area = labels.area_label(c["area_id"], names, lang)
            if c["field"] == "aqi_q50":
                lines.append(f"  {area}：第{c['lead_day']}天 AQI 中位数 {c['before']} → {c['after']}" if zh else
                             f"  {area}: lead day {c['lead_day']} AQI median {c['before']} → {c['after']}")
            elif c["field"] == "level":
                lines.append(f"  {area}：预报级别 {labels.label('levels_short', c['before'] or 'none', lang)} → "
                             f"{labels.label('levels_short', c['after'] or 'none', lang)}" if zh else
                             f"  {area}: forecast level {c['before']} → {c['after']}")
            else:
                b, a = c["before"] or {}, c["after"] or {}
                lines.append(f"  {area}：建议 {b.get('level', '—')}/{b.get('action', '—')} → "
                             f"{a.get('level', '—')}/{a.get('action', '—')}" if zh else
                             f"  {area}: proposal {b.get('level', '—')}/{b.get('action', '—')} → "
                             f"{a.get('level', '—')}/{a.get('action', '—')}")
    br = (record.get("briefing") or {}).get("docx")
    if br:
        lines.append(("会商材料：" if zh else "Briefing: ") + br)
    lines.append(("运行编号：" if zh else "Run: ") + record["run_id"])
    payload = {k: record.get(k) for k in ("run_id", "issue_date", "state", "unchanged", "reason", "degraded",
                                          "checks", "proposals", "changes", "briefing", "forecast")}
    return Message(subject=head, body="\n".join(lines), payload={"lantian_cycle": payload})


# ---- the run -----------------------------------------------------------------------------------------------------

def _new_run_id(now) -> str:
    return f"{_utc_now(now):%Y%m%dT%H%M%SZ}-{os.urandom(2).hex()}"


def plan(data, model_dir, cfg: dict, issued, *, now=None, cache=None) -> dict:
    """What a run would do, nothing written (``lantian cycle --dry-run``): the sources and the files it would
    fetch, the forecast it would run, where it would record."""
    met = fetch_meteorology(data, cfg, issued, now=now, dry_run=True) if Path(data).is_dir() else \
        {"source": cfg["meteorology"]["source"], "files": [], "problems": [_reason("no_data_dir", data=str(data))]}
    st = fetch_stations(data, cfg, issued, now=now, dry_run=True) if Path(data).is_dir() else \
        {"source": cfg["stations"]["source"], "files": [], "problems": []}
    return {"issue_date": str(pd.Timestamp(issued).date()), "reference_time_utc": str(reference_time(issued, now)),
            "meteorology": met, "stations": st, "limits": cfg["limits"],
            "forecast": {"model": str(model_dir), "issue_date": str(pd.Timestamp(issued).date()),
                         "run": met.get("run")},
            "notify": {k: bool(cfg["notify"][k]) for k in ("email", "webhook")} | {"when": cfg["notify"]["when"]},
            "status": str(status_path(data, cache, create=False)),
            "products": str(_cycle_root(data, cache, create=False) / f"{pd.Timestamp(issued):%Y%m%d}")}


def run_cycle(data, model_dir=None, *, issued=None, config=None, cache=None, region=None, audit=None, now=None,
              opendata_client=None, era5_client=None, fetcher=None, echo=None) -> dict:
    """One daily run (module docstring); returns its record (also in ``status.json`` and ``runs.jsonl``).

    Parameters
    ----------
    data : path-like
        Data directory (``stations/``, ``meteorology/``).
    model_dir : path-like, optional
        The model (default the configuration's ``model``); loaded as ``lantian forecast`` loads it.
    issued : date-like, optional
        Issue date (default today, CST).
    config : dict or path-like, optional
        A configuration (:func:`check_config`) or its YAML file (:func:`load_config`); default: no sources.
    cache, region
        Workspace and region folder, as for every command.
    audit : path-like, optional
        The audit store the warning states in force are read from (never written; default the workspace's
        ``audit.db``; the app's ``LANTIAN_AUDIT`` in a deployment).
    now : datetime-like, optional
        The time of the run (default the clock; tests set it).
    opendata_client, era5_client, fetcher
        Injectable clients (:mod:`forecast.loaders`) and the station fetcher ``fetcher(url) -> bytes | None``.
    echo : callable, optional
        Called with one text line per step.

    Returns
    -------
    dict
        ``state`` (``ok``, ``degraded``, ``refused``), ``unchanged``, ``reason``, ``checks``, ``degraded``,
        ``forecast``, ``proposals``, ``briefing``, ``changes``, ``notifications`` … (the status record).

    Raises
    ------
    CycleError
        A bad configuration or issue date, no model named: before anything is fetched or written.
    """
    from forecast import archive, cnemc, forecasting, freshness, workspace
    from forecast import model as M
    from forecast.nomenclature import CST_OFFSET, parse_day
    from forecast.region import load_region
    from response import briefing as BR
    from response import lifecycle, notify
    from response.respond import respond

    t0 = time.perf_counter()
    cfg = check_config(config) if isinstance(config, dict) else load_config(config)
    issued = parse_day(issued, "--issued") if issued is not None else default_issue_date(now)
    model_dir = model_dir or cfg["model"]
    if not model_dir:
        raise CycleError("no model: give --model DIR (or `model:` in the configuration)")
    data = Path(data)
    if not data.is_dir():
        raise CycleError(f"{data}: no such data directory")
    ref = reference_time(issued, now)
    root = _cycle_root(data, cache)
    run_id = _new_run_id(now)
    log = _Log(root / LOG_FILE, run_id, echo)
    limits = freshness.Limits(**cfg["limits"])
    record = {"run_id": run_id, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "now_utc": str(_utc_now(now)), "issue_date": str(issued.date()), "reference_time_utc": str(ref),
              "state": "ok", "unchanged": False, "reason": None, "model": str(model_dir), "checks": [],
              "degraded": None, "forecast": None, "proposals": None, "briefing": None, "changes": [],
              "notifications": [], "limits": limits.as_dict()}
    runs = read_runs(data, cache)
    same_day = [r for r in runs if r.get("issue_date") == record["issue_date"]]
    record["first_of_day"] = not same_day
    record["previous_state"] = same_day[-1]["state"] if same_day else None
    log("start", f"cycle {run_id}: issue date {issued.date()}, reference {ref} UTC")

    def finish() -> dict:
        record["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        record["seconds"] = round(time.perf_counter() - t0, 1)
        names = {}
        try:
            reg = region if region is not None and not isinstance(region, (str, Path)) else \
                load_region(region, data=data)
            names = dict(zip(reg.areas["area_id"], reg.areas["name_zh" if cfg["notify"]["lang"] == "zh"
                                                                else "name_en"]))
        except (ValueError, OSError):
            pass
        notify_now, why = should_notify(cfg["notify"]["when"], record)
        record["notify_reason"] = why
        targets = {k: cfg["notify"][k] for k in ("email", "webhook") if cfg["notify"][k]}
        if notify_now and targets:
            msg = message(record, cfg["notify"]["lang"], names)
            record["notifications"] = notify.send(msg, targets, timeout=cfg["notify"]["timeout_seconds"])
            for n in record["notifications"]:
                log("notify", f"{n['target']}: {'sent' if n['ok'] else 'FAILED ' + str(n['error'])}", ok=n["ok"])
        else:
            log("notify", f"no notification ({why if targets else 'no target configured'})")
        record["log_lines"] = len(log.lines) + 1
        log("end", f"cycle {run_id}: {record['state']}{' (unchanged)' if record['unchanged'] else ''} in "
                   f"{record['seconds']} s", state=record["state"])
        _write_json(root / STATUS_FILE, record)
        workspace.append_line(root / RUNS_FILE, json.dumps(record, ensure_ascii=False, default=str))
        return record

    def refuse(code: str, **params) -> dict:
        record.update(state="refused", reason=_reason(code, **params))
        log("refused", reason_text(record["reason"], "en"), reason=record["reason"])
        return finish()

    def steps() -> dict:
        # 1–2. the inputs
        record["sources"] = {"meteorology": fetch_meteorology(data, cfg, issued, now=now, client=opendata_client,
                                                              era5_client=era5_client),
                             "stations": fetch_stations(data, cfg, issued, now=now, fetcher=fetcher)}
        for key, src in record["sources"].items():
            got = [f for f in src["files"] if f["state"] in ("new", "grown")]
            log("fetch", f"{key} ({src['source']}): {len(got)} file(s) new or grown" +
                (f"; problems: {'; '.join(reason_text(x, 'en') for x in src['problems'])}" if src["problems"]
                 else ""), files=got, problems=src["problems"])
        try:
            model = M.Forecaster.load(model_dir)
        except (ValueError, OSError) as exc:
            return refuse("model_unloadable", model=str(model_dir), error=" ".join(str(exc).split()))
        record["model_version"] = model.version
        fingerprint = inputs_fingerprint(data, model_dir=model_dir, cfg=cfg, issued=issued)
        record["fingerprint"] = fingerprint
        # the day's last run that forecast (an unchanged run only points at one)
        last_good = next((r for r in reversed(same_day) if r.get("state") in ("ok", "degraded")
                          and not r.get("unchanged")), None)
        if (last_good and same_day[-1].get("fingerprint") == fingerprint and last_good.get("fingerprint") == fingerprint
                and Path((last_good.get("forecast") or {}).get("document") or "").exists()):
            for key in ("state", "checks", "degraded", "forecast", "proposals", "briefing", "model_version", "summary"):
                record[key] = last_good.get(key)
            record["unchanged"] = True
            record["previous_run"] = last_good["run_id"]
            log("unchanged", f"inputs, model and configuration as in run {last_good['run_id']}: nothing to do")
            return finish()

        # 3. freshness
        try:
            reg = region if region is not None and not isinstance(region, (str, Path)) else load_region(region, data=data)
            inputs = forecasting.load_inputs(data, cache=cache, region=reg)
        except (ValueError, OSError, KeyError) as exc:
            return refuse("data_unreadable", error=" ".join(str(exc).split()))
        run_hour = cfg["meteorology"]["run_hour"]
        met_run = freshness.newest_run(inputs.met_lead, ref, run_hour)
        covered = run_coverage(data, met_run, issued)
        if covered is None:  # no GRIB file of the run found: what the processed meteorology holds
            lead_days, missing_steps = freshness.run_lead_days(inputs.met_lead, met_run, issued), []
        else:
            lead_days, missing_steps = covered["lead_days"], covered["missing_steps"]
            record["run_steps"] = covered
        whence = "from the steps of its GRIB files" if covered else \
            "from the processed meteorology (no GRIB file of the run found)"
        log("freshness", f"lead days of the run {whence}: {lead_days}", lead_days=lead_days,
            missing_steps=missing_steps)
        rows, codes = None, []
        try:
            sites = cnemc.read_station_list(workspace.sites_file(data), inputs.region.areas)
            codes = sites["station"].tolist()
            files = [workspace.stations_dir(data) / f"china_sites_{d:%Y%m%d}.csv"
                     for d in (issued - pd.Timedelta(days=1), issued)]
            parts = [cnemc.read_cnemc_file(f, codes) for f in files if f.exists()]
            parts = [p for p in parts if p is not None and len(p)]
            rows = pd.concat(parts, ignore_index=True) if parts else None
        except (ValueError, OSError) as exc:
            log("freshness", f"station list unreadable: {exc}")
        stations = freshness.station_reporting(rows, codes, ref + CST_OFFSET)
        checks = freshness.assess(met_run=met_run, met_reference=ref, lead_days=lead_days, stations=stations,
                                  limits=limits, missing_steps=missing_steps)
        record["checks"] = checks
        for c in checks:
            log("freshness", f"{c['check']}: {c['state']} — {reason_text(c['reason'], 'en')}", check=c["check"],
                state=c["state"], reason=c["reason"])
        met_check = checks[0]
        if met_check["state"] == "missing":
            return refuse("no_forecast_run", fallback=limits.meteorology_fallback_hours, check=met_check["reason"])
        run_day = (pd.Timestamp(met_run) + CST_OFFSET).normalize()
        if run_day < issued:  # an older run stands in for the issue date's
            inputs.met_lead = freshness.fallback_run(inputs.met_lead, met_run, issued)
            log("forecast", f"the run {met_run:%Y-%m-%d %H} UTC stands in for the issue date's "
                            f"({met_check['value']:.0f} h old)")
        bad = [c for c in checks if c["state"] != "ok"]
        if bad:
            record["state"] = "degraded"
            record["degraded"] = {"checks": [c["check"] for c in bad], "reasons": [c["reason"] for c in bad],
                                  "meteorology_run": f"{pd.Timestamp(met_run):%Y-%m-%d %H} UTC",
                                  "meteorology_age_hours": met_check["value"]}

        # 4. the forecast
        products = workspace.output_dir(data, CYCLE_DIR, f"{issued:%Y%m%d}", run_id, cache=cache)
        try:
            table = forecasting.run_forecast(data, model_dir, issued, cache=cache, inputs=inputs)
        except (ValueError, OSError) as exc:
            return refuse("forecast_failed", issued=str(issued.date()), error=" ".join(str(exc).split()))
        if record["degraded"]:  # the archived rows say so too (the official record: Chinese)
            table["degraded"] = "；".join(degraded_texts(record["degraded"], "zh"))
            archive.store(table, data, model.version, issued, cache=cache)
        doc = forecasting.forecast_json(table, model)
        if record["degraded"]:
            doc["degraded"] = {"reasons": degraded_texts(record["degraded"], "zh"),
                               "reasons_en": degraded_texts(record["degraded"], "en"),
                               **{k: record["degraded"][k] for k in ("meteorology_run", "meteorology_age_hours")}}
        doc_path = products / "forecast.json"
        _write_json(doc_path, doc)
        record["forecast"] = {"document": str(doc_path), "model_version": model.version,
                              "meteorology_run": f"{pd.Timestamp(met_run):%Y-%m-%d %H} UTC",
                              "met_source": doc.get("met_source"), "warnings": doc.get("warnings") or [],
                              "levels": {a["area_id"]: a["level"] for a in doc["areas"]}}
        log("forecast", f"forecast of {issued.date()} by {model.version}: "
                        f"{sum(a['level'] != 'none' for a in doc['areas'])} area(s) with a level", document=str(doc_path))

        # 5. the proposals (the audit store read for the states in force, never written)
        states = None
        audit_db = Path(audit) if audit else workspace.audit_path(data, cache)
        if audit_db.exists():
            from response.audit import open_store

            with open_store(audit_db, read_only=True, create=False) as store:
                states = lifecycle.states_from_events(store.events(), before=str(issued.date()))
        decisions = respond(doc, out_dir=products / "proposals", write_docx=False, states=states, region=inputs.region,
                            data=data, consultation=False)
        record["proposals"] = {
            "file": str(products / "proposals" / "decisions.json"), "states_from_audit": states is not None,
            **{tier: {r["area_id"]: {"level": r["level"], "action": r["action"]} for r in decisions[tier]
                      if r.get("has_forecast", True)} for tier in ("city", "county")},
            "region": [{"level": r["level"], "members": r.get("members")} for r in decisions.get("region", [])]}
        log("proposals", f"{sum(p['action'] != 'none' for p in record['proposals']['city'].values())} league/city "
                         "action(s) proposed (not issued)")

        # 6. the briefing
        try:
            out = products / "briefing.docx"
            inp = BR.from_document(doc, data, region=inputs.region, cache=cache, inputs=inputs,
                                   audit=audit_db if audit_db.exists() else None, maps=cfg["briefing"]["maps"],
                                   forecast_source="run")
            inp.decisions = decisions
            BR.write_docx(BR.build_briefing(inp, cfg["briefing"]["lang"]), out)
            record["briefing"] = {"docx": str(out), "fields_problem": inp.fields_problem}
            log("briefing", f"written: {out}")
        except (ValueError, OSError, ImportError) as exc:
            record["briefing"] = {"docx": None, "problem": " ".join(str(exc).split())}
            log("briefing", f"not written: {exc}")

        # 7. what changed since the day's previous run
        now_summary = _summary(doc, decisions)
        record["summary"] = now_summary
        if last_good and last_good.get("summary"):
            record["changes"] = changes(last_good["summary"], now_summary, aqi_change=cfg["notify"]["aqi_change"])
            record["previous_run"] = last_good["run_id"]
            log("changes", f"{len(record['changes'])} change(s) since run {last_good['run_id']}")
        return finish()

    try:
        return steps()
    except Exception as exc:  # an unexpected failure: recorded, told, and one line on the command line
        import traceback

        log("error", "unexpected failure", traceback=traceback.format_exc()[-4000:])
        return refuse("unexpected", error=_error(exc), log=str(root / LOG_FILE))


def describe_plan(p: dict) -> list[str]:
    """``--dry-run``'s lines: what a run would fetch and run."""
    lines = [f"issue date {p['issue_date']}; inputs judged at {p['reference_time_utc']} UTC"]
    met = p["meteorology"]
    lines.append(f"meteorology: {met['source']}" + (f", run {met.get('run')}" if met["source"] != "none" else ""))
    lines += [f"  would {'fetch' if f['state'] == 'fetch' else 'keep' if f['state'] in ('present', 'same') else f['state']}: {f['file']}"
              for f in met["files"]]
    for f in (met.get("analyses") or {}).get("files", []):
        lines.append(f"  analyses: {f['state']}: {f['file']}")
    st = p["stations"]
    lines.append(f"stations: {st['source']}")
    verb = {"new": "would fetch", "grown": "would replace (grown)", "same": "unchanged", "kept": "would keep (differs)",
            "absent": "not available"}
    lines += [f"  {verb.get(f['state'], f['state'])}: stations/{f['file']} (from {f['from']})" for f in st["files"]]
    lines += [f"  problem: {reason_text(x, 'en')}" for x in met["problems"] + st["problems"]]
    lines.append(f"forecast: model {p['forecast']['model']}, issue date {p['forecast']['issue_date']}, "
                 f"limits {json.dumps(p['limits'])}")
    targets = [k for k in ("email", "webhook") if p["notify"][k]]
    lines.append(f"notify ({p['notify']['when']}): {', '.join(targets) or 'no target configured'}")
    lines.append(f"status: {p['status']}; products: {p['products']}/<run>/")
    return lines


# ---- what the status page shows ----------------------------------------------------------------------------------

def _cst(iso) -> str:
    from forecast.nomenclature import CST_OFFSET

    if not iso:
        return "—"
    t = pd.Timestamp(iso)
    t = t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t
    return f"{t + CST_OFFSET:%Y-%m-%d %H:%M}"


def status_view(record: dict | None, runs: list[dict] | None = None, lang: str = "zh") -> dict | None:
    """What the app's status page shows of a status record (:func:`read_status`) and the run records
    (:func:`read_runs`), in ``lang``: ``state`` (code) and ``state_label``, ``headline``, ``reason``,
    ``degraded`` (sentences), ``freshness``, ``sources``, ``notifications`` and ``runs`` as tables with labelled
    columns. ``None`` when no cycle has run."""
    from forecast import labels

    if record is None:
        return None
    zh = lang == "zh"
    lab = lambda kind, code: labels.label(kind, code, lang, default=str(code))  # noqa: E731
    state = "unchanged" if record.get("unchanged") else record["state"]
    head = (f"最近一次运行：{_cst(record.get('finished'))}（北京时），预报发布日期 {record['issue_date']}，"
            f"模型 {record.get('model_version') or '—'}" if zh else
            f"Last run: {_cst(record.get('finished'))} CST, issue date {record['issue_date']}, model "
            f"{record.get('model_version') or '—'}")
    if record.get("unchanged"):
        head += (f"；输入未变化，沿用运行 {record.get('previous_run')} 的结果" if zh else
                 f"; inputs unchanged, the results of run {record.get('previous_run')} stand")
    cols = (("检查项", "状态", "说明") if zh else ("Check", "State", "Detail"))
    fresh = pd.DataFrame([{cols[0]: lab("cycle_checks", c["check"]), cols[1]: lab("cycle_states", c["state"]),
                           cols[2]: check_text(c, lang)} for c in record.get("checks") or []],
                         columns=list(cols))
    scols = (("数据", "来源", "新增或更新的文件", "问题") if zh else ("Data", "Source", "Files new or grown",
                                                          "Problems"))
    srows = []
    for key, src in (record.get("sources") or {}).items():
        got = [f["file"] for f in src.get("files", []) if f["state"] in ("new", "grown")]
        srows.append({scols[0]: lab("cycle_sources", key), scols[1]: lab("cycle_sources", src.get("source")),
                      scols[2]: ("、" if zh else ", ").join(got) or "—",
                      scols[3]: ("；" if zh else "; ").join(reason_text(x, lang) for x in src.get("problems") or [])
                      or "—"})
    ncols = (("方式", "发送至", "结果", "时间（北京时）", "错误") if zh else
             ("Channel", "To", "Result", "Time (CST)", "Error"))
    nrows = [{ncols[0]: lab("cycle_notify", n["kind"]), ncols[1]: n["target"],
              ncols[2]: ("成功" if n["ok"] else "失败") if zh else ("sent" if n["ok"] else "failed"),
              ncols[3]: _cst(n.get("sent_at")), ncols[4]: n.get("error") or "—"}
             for n in record.get("notifications") or []]
    rcols = (("运行时间（北京时）", "发布日期", "状态", "变化", "通知") if zh else
             ("Run (CST)", "Issue date", "State", "Changes", "Notified"))
    rrows = [{rcols[0]: _cst(r.get("finished")), rcols[1]: r.get("issue_date"),
              rcols[2]: lab("cycle_states", "unchanged" if r.get("unchanged") else r.get("state")),
              rcols[3]: len(r.get("changes") or []), rcols[4]: sum(bool(n.get("ok")) for n in r.get("notifications") or [])}
             for r in reversed((runs or [])[-10:])]
    deg = record.get("degraded") or {}
    why = record.get("notify_reason")
    return {"state": state, "state_label": lab("cycle_states", state), "headline": head,
            "reason": reason_text(record.get("reason"), lang) or None,
            "degraded": degraded_texts(deg, lang),
            "freshness": fresh, "sources": pd.DataFrame(srows, columns=list(scols)),
            "notifications": pd.DataFrame(nrows, columns=list(ncols)),
            "notify_note": None if nrows else ("本次运行未发送通知" if zh else
                                               "No notification sent by this run" + (f" ({why})" if why else "")),
            "briefing": (record.get("briefing") or {}).get("docx"),
            "runs": pd.DataFrame(rrows, columns=list(rcols))}
