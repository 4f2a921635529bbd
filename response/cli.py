"""The ``lantian`` command line.

It lives in ``response`` because it composes both packages (``response`` may import ``forecast``, never the
reverse). Each subcommand is a thin call into the library; domain errors (``ValueError`` subclasses naming the
file/value and the problem) and I/O errors become one line on stderr and a non-zero exit. ``--debug`` shows the
traceback instead.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_ERROR = 2


def _cmd_stations(args) -> int:
    from forecast.history import build_history

    history, sites, report = build_history(args.data, cache=args.cache, progress=not args.quiet,
                                           refresh=args.refresh)
    if args.out:
        from forecast.stations import save_history
        save_history(history, args.out)
    state = "cached store" if report["cached"] else "read"
    print(f"{report['files']} archive file(s), {len(sites)} station(s); {report['rows']} hourly values ({state})")
    skipped = [e for e in report["skipped"] if e["action"] == "file skipped"]
    for entry in skipped:
        print(f"  skipped {entry['file']}: {entry['problem']}", file=sys.stderr)
    rows = [e for e in report["skipped"] if e["action"] != "file skipped"]
    if rows:
        print(f"  {len(rows)} row/column note(s); see read_log.csv in the cache", file=sys.stderr)
    for rec in report["removed"]:
        print(f"  QC removed {rec['count']:>7} {rec['pollutant']:<5} ({rec['reason']})")
    print(f"store: {args.out or report['store']}")
    return 0


def _cmd_daily(args) -> int:
    from forecast.history import build_history
    from forecast.stations import area_daily, area_rolling_24h

    history, sites, _ = build_history(args.data, cache=args.cache, progress=not args.quiet)
    table = (area_rolling_24h if args.rolling else area_daily)(history, sites, standard=args.standard)
    if args.area:
        table = table[table["area_id"].isin(args.area)]
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)
        print(f"{len(table)} row(s) written to {args.out}")
    else:
        cols = [c for c in ("date", "time", "area_id", "pm25_24h", "pm10_24h", "aqi", "name_zh", "primary_pollutant")
                if c in table.columns]
        print(table[cols].to_string(index=False, max_rows=60))
    return 0


def _cmd_aqi(args) -> int:
    import pandas as pd

    from forecast.aqi import AQIError, aqi, iaqi

    if args.table:
        try:
            frame = pd.read_csv(args.table)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise AQIError(f"{args.table}: cannot read concentration table ({exc})") from None
        out = pd.concat([frame, aqi(frame, standard=args.standard, date_column=args.date_column)], axis=1)
        if args.out:
            out.to_csv(args.out, index=False)
            print(f"{len(out)} row(s) written to {args.out}")
        else:
            print(out.to_string(index=False, max_rows=60))
        return 0
    if not args.pollutant or args.value is None:
        raise AQIError("give --table FILE, or --pollutant KEY --value CONCENTRATION")
    print(json.dumps({"pollutant": args.pollutant, "concentration": args.value, "standard": args.standard,
                      "iaqi": iaqi(args.pollutant, args.value, standard=args.standard)}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lantian", description="lantian 蓝天: heavy-pollution forecasting and "
                                     "emergency response for Inner Mongolia")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def data_args(p, required=True):
        p.add_argument("--data", required=required, help="data directory (layout in README)")
        p.add_argument("--cache", help="cache directory (default DIR/.lantian, or ~/.cache/lantian if read-only)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("stations", help="read + quality-control the CNEMC station archive into a parquet store")
    data_args(p)
    p.add_argument("--out", help="also write the store here (parquet)")
    p.add_argument("--refresh", action="store_true", help="ignore the cached store")
    p.set_defaults(func=_cmd_stations)

    p = sub.add_parser("daily", help="area (league/city, banner/county) daily or rolling-24-h AQI")
    data_args(p)
    p.add_argument("--out", help="CSV file (default: print)")
    p.add_argument("--area", action="append", help="only these area ids (repeatable)")
    p.add_argument("--rolling", action="store_true", help="hourly rolling-24-h values instead of natural days")
    p.add_argument("--standard", default="auto", help="HJ633-2012, HJ633-2026 or auto (by date)")
    p.set_defaults(func=_cmd_daily)

    p = sub.add_parser("aqi", help="AQI of a concentration table, or IAQI of one value")
    p.add_argument("--table", help="CSV with pollutant-key columns (pm25_24h, o3_8h, …)")
    p.add_argument("--out", help="CSV output for --table")
    p.add_argument("--pollutant", help="pollutant key for a single value")
    p.add_argument("--value", type=float, help="concentration [ug/m3; mg/m3 for CO]")
    p.add_argument("--standard", default="HJ633-2012", help="HJ633-2012, HJ633-2026 or auto (needs --date-column)")
    p.add_argument("--date-column", help="date column for --standard auto")
    p.set_defaults(func=_cmd_aqi)

    from . import commands  # later subcommands register themselves here

    commands.register(sub, data_args)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("lantian: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, KeyError) as exc:
        if args.debug:
            raise
        message = str(exc) if not isinstance(exc, KeyError) else f"missing key {exc}"
        if isinstance(exc, OSError) and exc.filename:
            message = f"{exc.filename}: {exc.strerror or exc}"
        print(f"lantian {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
