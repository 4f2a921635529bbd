"""Episodes and their records: windows, detection, quiet windows, the warnings record, the decision forecasts,
the timeline."""
import pandas as pd
import pytest

from response import audit
from response import episodes as EP


def test_detect_episodes_merges_areas_and_short_gaps():
    idx = pd.MultiIndex.from_tuples([(a, pd.Timestamp(d)) for a, d in [
        ("baotou", "2024-01-01"), ("hohhot", "2024-01-02"), ("baotou", "2024-01-04"), ("wuhai", "2024-01-10")]],
        names=["area_id", "date"])
    obs = pd.DataFrame({"aqi": [230, 260, 210, 300]}, index=idx)
    eps = EP.detect_episodes(obs)
    assert len(eps) == 2
    assert eps.iloc[0]["start"] == pd.Timestamp("2024-01-01") and eps.iloc[0]["end"] == pd.Timestamp("2024-01-04")
    assert eps.iloc[0]["areas"] == ["baotou", "hohhot"] and eps.iloc[0]["heavy_area_days"] == 3
    assert eps.iloc[1]["peak_aqi"] == 300


def test_detect_episodes_none():
    idx = pd.MultiIndex.from_tuples([("baotou", pd.Timestamp("2024-01-01"))], names=["area_id", "date"])
    eps = EP.detect_episodes(pd.DataFrame({"aqi": [200]}, index=idx))  # 200 is not above 200
    assert eps.empty and list(eps.columns) == ["start", "end", "areas", "heavy_area_days", "peak_aqi"]


def test_parse_episode():
    assert EP.parse_episode("2024-01-01:2024-01-05")[1] == pd.Timestamp("2024-01-05")
    with pytest.raises(EP.EvaluationError, match="expected START:END"):
        EP.parse_episode("2024-01-01")
    with pytest.raises(EP.EvaluationError, match="end before start"):
        EP.parse_episode("2024-01-05:2024-01-01")
    for bad in ("2024-01-01:", ":2024-01-05", "2024-01-01:2024-02-30", "a:b", "2024-01-01:2024-01-02:2024-01-03"):
        with pytest.raises(EP.EvaluationError, match="expected START:END"):
            EP.parse_episode(bad)


def test_window_outside_the_data_names_the_data_period():
    EP.check_window(_obs(), "2024-01-01", "2024-01-03")
    for start, end in (("2023-12-31", "2024-01-02"), ("2024-01-02", "2024-01-04"), ("2020-01-01", "2020-01-05")):
        with pytest.raises(EP.EvaluationError, match="outside the data: the station data cover 2024-01-01 … "
                                                     "2024-01-03"):
            EP.check_window(_obs(), start, end)


def _obs():
    days = pd.date_range("2024-01-01", periods=3)
    idx = pd.MultiIndex.from_product([["baotou", "hohhot"], days], names=["area_id", "date"])
    return pd.DataFrame({"aqi": [180, 260, float("nan"), 120, 150, 140],
                         "pm25_24h": [130, 200, float("nan"), 90, 110, 100]}, index=idx)


def test_episode_areas():
    obs = _obs()
    assert EP.episode_areas(obs, "2024-01-01", "2024-01-03") == ["baotou"]  # the one above 200
    assert EP.episode_areas(obs, "2024-01-03", "2024-01-03") == ["baotou", "hohhot"]  # none above: every area
    assert EP.episode_areas(obs, "2024-01-01", "2024-01-03", ["hohhot"], known=["baotou", "hohhot"]) == ["hohhot"]
    with pytest.raises(EP.EvaluationError, match=r"unknown area\(s\) \['beijing'\]; allowed: baotou, hohhot"):
        EP.episode_areas(obs, "2024-01-01", "2024-01-03", ["beijing"], known=["baotou", "hohhot"])


def test_warnings_from_audit_events(tmp_path):
    with audit.open_store(tmp_path / "a.db") as s:
        s.append(audit.Event("issued", "baotou", "city", "yellow", "officer", valid_from="2024-01-02"))
        s.append(audit.Event("upgraded", "baotou", "city", "orange", "officer", valid_from="2024-01-03"))
        s.append(audit.Event("lifted", "baotou", "city", "none", "officer", valid_from="2024-01-05"))
        w = EP.warnings_from_store(s)
    assert list(w["level"]) == ["yellow", "orange", "orange"]
    assert list(w["date"].dt.day) == [2, 3, 4]


def test_read_warnings(tmp_path):
    empty = EP.read_warnings(None)
    assert empty.empty and list(empty.columns) == ["area_id", "date", "level", "issued"]
    path = tmp_path / "issued.csv"
    path.write_text("area_id,date,level,issued\nbaotou,2024-01-02,orange,2024-01-01\n", encoding="utf-8")
    w = EP.read_warnings(path)
    assert w["date"].iloc[0] == pd.Timestamp("2024-01-02") and w["level"].iloc[0] == "orange"
    with audit.open_store(tmp_path / "a.db") as s:
        s.append(audit.Event("issued", "hohhot", "city", "red", "officer", valid_from="2024-01-02"))
    assert list(EP.read_warnings(tmp_path / "a.db")["level"]) == ["red"]


@pytest.mark.parametrize("text, message", [("area_id,day,level\nbaotou,2024-01-02,red\n", "cannot read"),
                                           ("area_id,date\nbaotou,2024-01-02\n", "need columns area_id, date, level")])
def test_read_warnings_errors(tmp_path, text, message):
    path = tmp_path / "w.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EP.EvaluationError, match=message):
        EP.read_warnings(path)


def _issued_csv(data):
    path = data / EP.ISSUED_WARNINGS
    path.parent.mkdir(parents=True)
    path.write_text("area_id,date,level\nbaotou,2024-01-02,yellow\n", encoding="utf-8")
    return path


def test_warnings_record_is_the_audit_store_with_decisions(tmp_path):
    store = tmp_path / "audit.db"
    _issued_csv(tmp_path)
    with audit.open_store(store) as s:
        s.append(audit.Event("issued", "baotou", "city", "yellow", "officer", valid_from="2024-01-02"))
    assert EP.warnings_record(tmp_path, store) == store


def test_warnings_record_falls_back_to_the_issued_warnings_csv(tmp_path):
    csv = _issued_csv(tmp_path)
    store = tmp_path / "audit.db"
    assert EP.warnings_record(tmp_path) == csv
    assert EP.warnings_record(tmp_path, store) == csv  # no store
    with audit.open_store(store) as s:  # a store with proposals only: no decisions
        s.append(audit.Event("proposed", "baotou", "city", "yellow", "system"))
    assert EP.warnings_record(tmp_path, store) == csv


def test_no_warnings_record_and_never_the_simulators_truth(tmp_path):
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "warnings.csv").write_text("area_id,date,level\nbaotou,2024-01-02,red\n")
    assert EP.warnings_record(tmp_path) is None
    assert EP.warnings_record(tmp_path, tmp_path / "missing.db") is None


def test_read_decision_forecasts(tmp_path):
    path = tmp_path / "decisions.csv"
    path.write_text("area_id,issue_date,target_date,lead_day,aqi\n"
                    "baotou,2024-01-01,2024-01-02,1,210\n"
                    "baotou,2023-12-31,2024-01-02,2,190\n"
                    "baotou,2024-01-01,2024-01-03,2,250\n"
                    "baotou,2024-01-01,2024-01-04,1,-5\n", encoding="utf-8")  # outside 0–1000: dropped
    d = EP.read_decision_forecasts(path).set_index(["area_id", "date"])
    assert d.loc[("baotou", pd.Timestamp("2024-01-02")), "aqi"] == 210  # the shortest lead
    assert d.loc[("baotou", pd.Timestamp("2024-01-02")), "aqi_lead2"] == 190
    assert d.loc[("baotou", pd.Timestamp("2024-01-03")), "aqi"] == 250  # only a day-2 forecast of that day
    assert len(d) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("area_id,issue_date,target_date,aqi\nbaotou,2024-01-01,2024-01-02,210\n", encoding="utf-8")
    with pytest.raises(EP.EvaluationError, match=r"missing column\(s\) \['lead_day'\]"):
        EP.read_decision_forecasts(bad)
    with pytest.raises(EP.EvaluationError, match="cannot read the decision forecasts"):
        EP.read_decision_forecasts(tmp_path / "missing.csv")


def test_decision_forecasts_record(tmp_path):
    assert EP.decision_forecasts_record(tmp_path) is None
    (tmp_path / "forecasts").mkdir()
    (tmp_path / "forecasts" / "decision_forecasts.csv").write_text("area_id,issue_date,target_date,lead_day,aqi\n")
    assert EP.decision_forecasts_record(tmp_path) == tmp_path / "forecasts" / "decision_forecasts.csv"


def test_gaps_and_timeline():
    obs = _obs()
    start, end = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-03")
    assert EP.data_gaps(obs, ["baotou", "hohhot"], start, end) == {"baotou": ["2024-01-03"]}
    warnings = pd.DataFrame({"area_id": ["baotou"], "date": [pd.Timestamp("2024-01-02")], "level": ["orange"]})
    archive = pd.DataFrame({"area_id": "baotou", "issue_date": pd.Timestamp("2024-01-01"),
                            "target_date": [pd.Timestamp("2024-01-02")] * 2, "lead": [1, 2],
                            "aqi_q10": [150, 140], "aqi_q50": [220, 200], "aqi_q90": [300, 290]})
    tl = EP.timeline(obs, warnings, archive, ["baotou"], start, end)
    assert [r["warning"] for r in tl] == ["none", "orange", "none"]
    assert [r["aqi"] for r in tl] == [180.0, 260.0, None] and tl[1]["pm25"] == 200.0
    assert tl[1]["fc_lead1"] == {"q10": 150.0, "q50": 220.0, "q90": 300.0} and tl[1]["fc_lead2"]["q50"] == 200.0
    assert "fc_lead1" not in tl[0]


def test_rolling_24h_covers_the_windows_cst_days():
    times = pd.date_range("2024-01-01 23:00", periods=3, freq="h", tz="Asia/Shanghai")
    rolling = pd.DataFrame({"baotou": [100.0, float("nan"), 120.0]}, index=times)
    got = EP.rolling_24h(rolling, ["baotou", "hohhot"], "2024-01-02", "2024-01-02")
    assert got == {"baotou": [["2024-01-02 00:00:00+08:00", None], ["2024-01-02 01:00:00+08:00", 120.0]]}


def test_quiet_windows():
    w = pd.DataFrame({"area_id": ["a", "a"], "date": pd.to_datetime(["2024-11-10", "2024-12-20"])})
    got = EP.quiet_windows(w, "2024-11-01", "2025-01-31", days=4)
    for a, b in got:
        assert (b - a).days == 3 and not w["date"].between(a - pd.Timedelta(days=3), b + pd.Timedelta(days=3)).any()
    assert got[0][0] == pd.Timestamp("2024-11-14") and len(got) == 4
    assert all((y[0] - x[0]).days >= 21 for x, y in zip(got, got[1:]))
    assert EP.quiet_windows(w, "2024-11-01", "2025-01-31", days=4, areas=["b"])[0][0] == pd.Timestamp("2024-11-04")


def _version(folder, version, train_end):
    """A model version folder as the registry reads it (model.json and a card; no boosters are read)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.json").write_text("{}")
    (folder / "model_card.json").write_text(json.dumps({"version": version, "created": f"{train_end}T00:00:00Z",
                                                        "training_period": ["2023-01-01", train_end]}))


def _archived(data, version, issued, q50):
    from forecast import archive

    day = pd.Timestamp(issued)
    rows = pd.DataFrame({"area_id": ["baotou"] * 3, "issue_date": [day] * 3, "lead": [1, 2, 3],
                         "target_date": [day + pd.Timedelta(days=k) for k in (1, 2, 3)],
                         "aqi_q10": q50 - 20.0, "aqi_q50": q50, "aqi_q90": q50 + 20.0})
    archive.store(rows, data, version, day, cache=data / "c")


def test_a_past_episode_is_read_under_the_version_in_use_then(tmp_path):
    """Promote v1, archive, promote v2, archive (and hindcast the old dates with v2): the old episode's
    forecasts are v1's, a new one's v2's — whatever is promoted today."""
    from forecast import registry

    root = tmp_path / "models"
    registry.init(root)
    _version(root / "versions" / "v1", "v1", "2023-10-31")
    registry.promote(root, "v1", user="boss", force=True, reason="first")
    for d in pd.date_range("2024-01-01", "2024-01-05"):
        _archived(tmp_path, "v1", d, 150.0)
    _version(root / "versions" / "v2", "v2", "2024-01-31")
    registry.promote(root, "v2", user="boss", force=True, reason="retrained")
    for d in pd.date_range("2024-01-01", "2024-01-05"):  # a hindcast of the old dates, archived later
        _archived(tmp_path, "v2", d, 300.0)
    for d in pd.date_range("2024-02-10", "2024-02-12"):
        _archived(tmp_path, "v2", d, 250.0)
    assert registry.resolve(root).name == "v2"
    _version(root / "versions" / "v3", "v3", "2024-02-20")  # trained, never promoted: its hindcast is nobody's
    _archived(tmp_path, "v3", "2024-02-13", 999.0)
    assert registry.model_versions(root) == ["v1", "v2"]
    old = EP.episode_forecasts(tmp_path, root, "2024-01-04", "2024-01-06", cache=tmp_path / "c")
    assert sorted(old["issue_date"].dt.day.unique()) == [1, 2, 3, 4, 5]
    assert set(old["model_version"]) == {"v1"} and set(old["aqi_q50"]) == {150.0}
    new = EP.episode_forecasts(tmp_path, root, "2024-02-11", "2024-02-13", cache=tmp_path / "c")
    assert set(new["model_version"]) == {"v2"} and len(new) == 9
    obs = pd.DataFrame({"aqi": [210.0], "pm25_24h": [160.0]},
                       index=pd.MultiIndex.from_tuples([("baotou", pd.Timestamp("2024-01-05"))],
                                                       names=["area_id", "date"]))
    tl = EP.timeline(obs, pd.DataFrame(), old, ["baotou"], "2024-01-05", "2024-01-05")
    assert tl[0]["fc_lead1"]["q50"] == 150.0  # the day's lead-1 forecast is v1's median


def test_a_plain_model_folder_reads_its_own_version_only(tmp_path):
    _version(tmp_path / "plain", "v1", "2023-10-31")
    _archived(tmp_path, "v1", "2024-01-03", 150.0)
    _archived(tmp_path, "other", "2024-01-03", 400.0)
    got = EP.episode_forecasts(tmp_path, tmp_path / "plain", "2024-01-03", "2024-01-04", cache=tmp_path / "c")
    assert set(got["model_version"]) == {"v1"} and len(got) == 3
