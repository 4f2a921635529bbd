"""A small hand-built post-episode report (two areas, three days) for the report and figure tests."""
from __future__ import annotations


def small_report(*, effect: dict | None = None, gaps: dict | None = None) -> dict:
    """Baotou warned orange on 2 and 3 Jan (a hit, issued 1 Jan), Hohhot unwarned with one heavy day (a miss)."""
    fc = {"q10": 150.0, "q50": 210.0, "q90": 280.0}
    timeline = [
        {"area_id": "baotou", "date": "2024-01-01", "aqi": 180.0, "pm25": 130.0, "warning": "none", "fc_lead1": fc},
        {"area_id": "baotou", "date": "2024-01-02", "aqi": 260.0, "pm25": 200.0, "warning": "orange", "fc_lead1": fc},
        {"area_id": "baotou", "date": "2024-01-03", "aqi": 240.0, "pm25": 180.0, "warning": "orange"},
        {"area_id": "hohhot", "date": "2024-01-01", "aqi": 120.0, "pm25": 90.0, "warning": "none"},
        {"area_id": "hohhot", "date": "2024-01-02", "aqi": 230.0, "pm25": 170.0, "warning": "none"},
        {"area_id": "hohhot", "date": "2024-01-03", "aqi": None, "pm25": None, "warning": "none"},
    ]
    if effect is None:
        whole = {"estimate": -20.0, "interval": [-30.0, -10.0], "level": 0.9, "n_days": 2, "relative": -0.1}
        effect = {"pm25": whole, "aqi": {"estimate": -25.0, "interval": [-40.0, -10.0]}, "area_days": 2,
                  "pm25_by_area": {"baotou": whole}}
    return {"episode": {"start": "2024-01-01", "end": "2024-01-03", "areas": ["baotou", "hohhot"],
                        "rules": "MEE-2019"},
            "gaps": gaps or {}, "timeline": timeline,
            "rolling_24h": {"baotou": [["2024-01-02 00:00:00+08:00", 250.0], ["2024-01-02 01:00:00+08:00", None]]},
            "forecast_quality": {"baotou": {"observed_peak_aqi": 260.0, "forecasts": 3,
                                            "first_heavy_day_forecast_days_ahead": 2},
                                 "hohhot": {"observed_peak_aqi": 230.0, "forecasts": 3,
                                            "first_heavy_day_forecast_days_ahead": 0}},
            "warning_quality": {"baotou": {"outcome": "hit", "heavy_days": 2, "lead_time_h": 8.0},
                                "hohhot": {"outcome": "miss", "heavy_days": 1}},
            "effect": effect, "counterfactual_model": None, "warnings_used": 2, "forecasts_used": 3,
            "consultation": [], "summary_zh": "摘要"}
