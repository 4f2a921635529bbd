"""lantian emergency response: warning levels to contingency plans, emission-cut lists, bulletins and audit.

The public face::

    import response
    from response.respond import respond        # the module and its function share the name
    decisions = respond("forecast.json", out_dir="out", store="audit.db", data="demo")
    report = response.evaluate_episode("demo", "2024-12-25", "2024-12-30", model_dir="models/demo")

Names are loaded on first use. Modules, one per concept: ``causes`` (warning or health advisory), ``lifecycle``
(issue / upgrade / downgrade / lift, state from the audit store), ``plans`` (three tiers, cascade), ``reduction``
(performance-graded emission-cut lists, share check), ``bulletins``, ``audit`` (append-only store), ``accounts``;
the post-episode side ``episodes``, ``scoring``, ``counterfactual``, ``report``, ``figures``; ``respond`` and
``evaluation`` sequence them. ``response`` imports ``forecast``; ``forecast`` never imports ``response``.
"""
import importlib as _importlib

import forecast as _forecast  # noqa: F401  (sets the OpenMP spin policy before LightGBM loads)

_PUBLIC = {
    "load_forecast": "respond", "open_store": "audit", "Event": "audit",
    "evaluate_episode": "evaluation", "evaluate": "evaluation", "load_plans": "plans", "load_registry": "reduction",
    "activate": "reduction", "share_check": "reduction", "render": "bulletins",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(_importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
