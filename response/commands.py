"""Subcommands added by the later parts of lantian (simulation, meteorology, model, response, evaluation)."""
from __future__ import annotations

import json


def _cmd_simulate(args) -> int:
    from forecast.simulate import simulate

    summary = simulate(args.out, seed=args.seed, start=args.start, end=args.end, forecasts=args.forecasts,
                       progress=not args.quiet, workers=args.workers)
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    print(f"demo world written to {args.out}")
    return 0


def register(sub, data_args) -> None:
    """Add the subcommands to the ``lantian`` parser's subparsers."""
    p = sub.add_parser("simulate", help="write the embedded demo world (GRIB2 + CNEMC files + truth)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", default="2023-10-01", help="first day (default 2023-10-01)")
    p.add_argument("--end", default="2025-03-31", help="last day (default 2025-03-31: two winters)")
    p.add_argument("--forecasts", default="heating", choices=["all", "heating", "none"],
                   help="days with a 00 UTC forecast run (default: heating seasons Oct–Apr)")
    p.add_argument("--workers", type=int, default=2, help="processes writing GRIB (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)
