"""lantian forecasting library: meteorology and station data in, daily AQI forecasts and warning levels out.

The public face — what a notebook user imports::

    import forecast
    inputs = forecast.load_inputs("demo")
    model = forecast.train("demo", "models/m", until="2024-05-31", inputs=inputs)
    table = forecast.run_forecast("demo", "models/m", "2025-01-05", inputs=inputs)
    scores = forecast.run_verify("demo", "models/m", "2024-10-01", "2025-03-31", inputs=inputs)
    forecast.iaqi("pm25_24h", 180.0), forecast.warning_level([210, 230, 120],
                                                             rules=forecast.rules_in_force("2025-01-05"))

(a public name never equals a module's name: ``forecast.aqi`` is the module, ``forecast.aqi.aqi`` its function.)

Names are loaded on first use (``import forecast`` stays light for the command line). Modules, one per concept:
``nomenclature`` (names, units, time zone, thresholds), ``aqi`` (HJ 633), ``cnemc`` / ``qc`` / ``averaging`` /
``history`` (station data), ``gribread`` / ``extraction`` / ``drivers`` / ``meteorology`` / ``loaders``
(meteorology), ``levels`` (warning rules), ``distributions``, ``features``, ``model``, ``modelcard``,
``verification``, ``archive``, ``document`` (the forecast document's schema), ``consultation``, ``products``,
``workspace``; ``forecasting`` sequences them.
"""
import os as _os

import lazy_loader as _lazy

# LightGBM's OpenMP threads spin-wait 300,000 times before sleeping (GNU libgomp default). With two LightGBM
# processes on two cores (the app training while `lantian evaluate` runs, a benchmark beside the tests) the
# spinning threads starve each other: one small training went from 2 s alone to 83 s side by side. A short spin
# keeps ~90 % of the solo speed and avoids the collapse (4.6 s side by side); set GOMP_SPINCOUNT to override.
# Must be set before libgomp loads, hence here.
_os.environ.setdefault("GOMP_SPINCOUNT", "1000")

# the public face, loaded on first use (scientific-python's lazy_loader, as scikit-image and NetworkX do)
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "forecasting": ["Inputs", "load_inputs", "train", "run_forecast", "run_verify", "forecast_json", "hindcast"],
    "model": ["Forecaster"], "aqi": ["iaqi"], "levels": ["warning_level", "grade", "rules_in_force"],
    "history": ["build_history"], "meteorology": ["ingest"], "archive": ["archived_forecasts"],
})
