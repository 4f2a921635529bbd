"""lantian emergency response: warning levels to contingency plans, emission-cut lists, bulletins and audit.

The public face::

    import response
    from response.respond import respond        # the module and its function share the name
    decisions = respond("forecast.json", out_dir="out", store="audit.db", data="demo")
    report = response.evaluate_episode("demo", "2024-12-25", "2024-12-30", model_dir="models/demo")

Names are loaded on first use. Modules, one per concept: ``causes`` (warning or health advisory), ``lifecycle``
(issue / upgrade / downgrade / lift, state from the audit store), ``plans`` (three tiers, cascade), ``reduction``
(performance-graded emission-cut lists, share check), ``bulletins``, ``audit`` (append-only store), ``accounts``;
the post-episode side ``episodes``, ``scoring``, ``counterfactual``, ``report``, ``figures`` (plotly) and ``charts`` (static SVG/PNG); ``respond`` and
``evaluation`` sequence them. ``response`` imports ``forecast``; ``forecast`` never imports ``response``.
"""
import lazy_loader as _lazy

import forecast as _forecast  # noqa: F401  (sets the OpenMP spin policy before LightGBM loads)

__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs={
    "respond": ["load_forecast"], "audit": ["open_store", "Event"], "evaluation": ["evaluate_episode", "evaluate"],
    "plans": ["load_plans"], "reduction": ["load_registry", "activate", "share_check"], "bulletins": ["render"],
})
