"""lantian emergency response: warning levels to contingency plans, emission-cut lists, bulletins and audit."""
import forecast as _forecast  # noqa: F401  (sets the OpenMP spin policy before LightGBM loads)
