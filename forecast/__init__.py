"""lantian forecasting library: meteorology and station data in, daily AQI forecasts and warning levels out."""
import os as _os

# LightGBM's OpenMP threads spin-wait 300,000 times before sleeping (GNU libgomp default). With two LightGBM
# processes on two cores (the app training while `lantian evaluate` runs, a benchmark beside the tests) the
# spinning threads starve each other: one small training went from 2 s alone to 83 s side by side. A short spin
# keeps ~90 % of the solo speed and avoids the collapse (4.6 s side by side); set GOMP_SPINCOUNT to override.
# Must be set before libgomp loads, hence here.
_os.environ.setdefault("GOMP_SPINCOUNT", "1000")
