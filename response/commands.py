"""Subcommands added by the later parts of lantian (simulation, meteorology, model, response, evaluation)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def _cmd_simulate(args) -> int:
    from forecast.simulate import simulate

    summary = simulate(args.out, seed=args.seed, start=args.start, end=args.end, forecasts=args.forecasts,
                       progress=not args.quiet, workers=args.workers, analysis_step=args.analysis_step)
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    print(f"demo world written to {args.out}")
    return 0


def _cmd_ingest(args) -> int:
    import sys
    from pathlib import Path

    from forecast import meteorology, workspace

    client = None
    if args.scheduler:
        from distributed import Client

        client = Client(args.scheduler)
    met = meteorology.ingest(args.data, cache=args.cache, client=client, workers=args.workers,
                             progress=not args.quiet, refresh=args.refresh)
    summary = met.summary()
    for rep in met.errors:
        print(f"  skipped {rep['file']}: {rep['error']}", file=sys.stderr)
    for rep in met.files:
        for problem in rep.get("problems") or []:
            print(f"  {Path(rep['file']).name}: {problem}", file=sys.stderr)
    by_day, by_lead = meteorology.daily(met)
    out = Path(args.out) if args.out else workspace.cache_dir(args.data, args.cache)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("drivers_daily", by_day), ("drivers_lead_days", by_lead)):
        if len(frame):
            path = out / f"{name}.parquet"
            frame.reset_index().to_parquet(path, index=False)
            written.append(str(path))
    print(f"{summary['files']} GRIB file(s): {summary['from_cache']} from cache, {summary['failed']} failed; "
          f"{summary['analysis_files']} analysis, {summary['forecast_files']} forecast file(s), "
          f"{summary['runs']} run(s)")
    if summary["analysis_period"]:
        print(f"analyses: {summary['analysis_period'][0]} … {summary['analysis_period'][1]} UTC")
    print(f"variables: {', '.join(summary['variables'])}")
    if summary["missing"]:
        print(f"missing (drivers that need them are left empty): {', '.join(summary['missing'])}")
    for path in written:
        print(f"written: {path}")
    return 0 if not met.errors else 1


def _cmd_train(args) -> int:
    from forecast import forecasting

    model = forecasting.train(args.data, args.model, until=args.until, start=args.start, cache=args.cache,
                              progress=not args.quiet, seed=args.seed, rounds=args.rounds)
    card = model.card
    print(f"model {card['name']} {card['version']} written to {args.model}")
    print(f"trained on {card['rows']} rows ({card['heavy_rows']} with AQI > 200), issue dates "
          f"{card['training_period'][0]} … {card['training_period'][1]}, {len(card['areas'])} areas; "
          f"meteorology from {card['met_source']}")
    return 0


def _cmd_forecast(args) -> int:
    from forecast import forecasting

    table = forecasting.run_forecast(args.data, args.model, args.issued, cache=args.cache, out=args.out,
                                     rules=args.rules, progress=not args.quiet)
    day1 = table[table["lead"] == 1].sort_values("area_id")
    cols = ["area_id", "target_date", "aqi_q10", "aqi_q50", "aqi_q90", "p_aqi_gt200", "dust", "level"]
    print(day1[cols].to_string(index=False))
    if args.out:
        print(f"forecast written to {args.out}")
    return 0


def _cmd_verify(args) -> int:
    from forecast import forecasting

    result = forecasting.run_verify(args.data, args.model, args.start, args.end, cache=args.cache, out=args.out,
                                    rules=args.rules, progress=not args.quiet)
    print(result["table"])
    lv = {r["model"]: r for r in result["levels"]}
    print("\nwarning levels (hits / misses / false alarms / exact-level accuracy):")
    for name, r in lv.items():
        print(f"  {name:<12} {r['hits']:>5} {r['misses']:>5} {r['false_alarms']:>5}  {r['exact_level_accuracy']}")
    if args.out:
        print(f"scores written to {args.out}")
    return 0


def _cmd_respond(args) -> int:
    from forecast import consultation
    from response.respond import load_forecast, respond

    doc = load_forecast(args.forecast)
    if args.data and not args.no_consultation:
        records, problems = consultation.load(args.data)
        for p in problems:
            print(f"skipped consultation record: {p}", file=sys.stderr)
        adj = consultation.latest(records, doc["issue_date"])
        if len(adj):
            doc = consultation.apply(doc, adj)
            print(f"applied {len(adj)} consultation adjustment(s) of {doc['issue_date']} "
                  f"({', '.join(doc['consultation']['areas'])})")
    result = respond(doc, out_dir=args.out, rules=args.rules, store=args.audit, data=args.data)
    for tier in ("region", "city", "county"):
        for rec in result[tier]:
            if tier == "region":
                print(f"[自治区] {rec['name_zh']}: {rec['level']} ({', '.join(rec['triggered_by'])})")
            elif rec["action"] != "none" or rec["health_advisory"]:
                extra = " + 健康提示" if rec["health_advisory"] else ""
                print(f"[{tier}] {rec['name_zh']}: {rec['action']} → {rec['level']}{extra}  {rec['reason']}")
    red = result.get("reduction")
    if red and "share_check" in red:
        print(f"emission-reduction lists: {red['activated']} of {red['enterprises']} enterprises activated; "
              f"{len(red['bad_rows'])} bad registry row(s)")
        for r in red["share_check"]:
            status = "met" if r["met"] else f"SHORT by {r['shortfall_td']:.2f} t/d"
            print(f"  {r['area_id']:<10} {r['pollutant']:<5} {r['share']:.1%} of {r['target_share']:.0%} {status}")
    elif red:
        print(red["note"])
    n = len(result["bulletin_objects"])
    print(f"{n} bulletin draft(s); decisions written to {args.out}/decisions.json")
    return 0


def _cmd_audit(args) -> int:
    from response.audit import open_store

    with open_store(args.db) as store:
        events = store.events(args.area)
        for e in events[-args.last:]:
            print(f"{e['id']:>5} {e['recorded_at'][:19]} {e['action']:<10} {e['area_id']:<12} {e['level']:<7} "
                  f"{e['officer']}  {e['reason'] or ''}")
        bad = store.verify_bulletins()
        print(f"{len(events)} event(s); bulletin hashes {'all match' if not bad else f'MISMATCH in {bad}'}")
        if args.export:
            store.export_csv(args.export)
            print(f"exported to {args.export}")
    return 0


def _cmd_evaluate(args) -> int:
    from forecast import forecasting
    from response import evaluation as E

    inputs = forecasting.load_inputs(args.data, cache=args.cache, progress=not args.quiet)
    if args.episode:
        windows = [E.parse_episode(args.episode)]
    else:
        eps = E.detect_episodes(inputs.obs.daily)
        if args.season:
            s, e = E.parse_episode(args.season)
            eps = eps[(eps["start"] >= s) & (eps["end"] <= e)]
        windows = list(zip(eps["start"], eps["end"]))
        if not windows:
            raise E.EvaluationError("no episode (daily AQI > 200) found; give --episode START:END")
    reports = []
    for start, end in windows:
        report = E.evaluate_episode(args.data, start, end, areas=args.areas, model_dir=args.model,
                                    warnings=args.warnings, cache=args.cache, inputs=inputs,
                                    decisions=args.decisions)
        paths = E.write_report(report, args.out)
        reports.append(report)
        print(report["summary_zh"])
        print(f"  report: {paths['html']}")
        for area, gaps in report["gaps"].items():
            print(f"  data gaps {area}: {', '.join(gaps)}", file=sys.stderr)
    if len(reports) > 1:
        summary = E.season_summary(reports)
        (Path(args.out) / "season_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
        print(json.dumps(summary, ensure_ascii=False))
    return 0


def register(sub, data_args) -> None:
    """Add the subcommands to the ``lantian`` parser's subparsers."""
    p = sub.add_parser("simulate", help="write the embedded demo world (GRIB2 + CNEMC files + truth)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", default="2022-10-01", help="first day (default 2022-10-01)")
    p.add_argument("--end", default="2025-03-31", help="last day (default 2025-03-31: three winters)")
    p.add_argument("--forecasts", default="heating", choices=["all", "heating", "none"],
                   help="days with a 00 UTC forecast run (default: heating seasons Oct–Apr)")
    p.add_argument("--workers", type=int, default=2, help="processes writing GRIB (default 2)")
    p.add_argument("--analysis-step", type=float, default=0.25,
                   help="analysis grid spacing in degrees (default 0.25 as ERA5; coarser = faster)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("ingest", help="GRIB meteorology → per-area series and daily drivers (cached)")
    data_args(p)
    p.add_argument("--workers", type=int, help="local worker processes (default: CPU count, at most 4)")
    p.add_argument("--scheduler", help="address of a dask.distributed scheduler to run on instead")
    p.add_argument("--refresh", action="store_true", help="ignore cached series and extract every file again")
    p.add_argument("--out", help="directory for drivers_daily.parquet / drivers_lead_days.parquet (default: cache)")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("train", help="train the LightGBM AQI forecaster and write it with its model card")
    data_args(p)
    p.add_argument("--model", required=True, help="model directory to write")
    p.add_argument("--until", help="last day whose observations may be used (default: all)")
    p.add_argument("--start", help="first issue date (default: the start of the history)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=300, help="boosting rounds per booster (default 300)")
    p.set_defaults(func=_cmd_train)

    def model_args(p, out_help):
        data_args(p)
        p.add_argument("--model", required=True, help="trained model directory")
        p.add_argument("--out", help=out_help)
        p.add_argument("--rules", help="warning rule set (MEE-2019, MEE-2024; default by date)")

    p = sub.add_parser("forecast", help="forecast AQI, exceedance and warning-level probabilities for an issue date")
    model_args(p, "write the forecast as .json or .csv")
    p.add_argument("--issued", required=True, help="issue date (YYYY-MM-DD; issue time 16:00 CST)")
    p.set_defaults(func=_cmd_forecast)

    p = sub.add_parser("verify", help="rolling-origin hindcast against persistence and climatology")
    model_args(p, "write the scores (JSON contract) here")
    p.add_argument("--start", required=True, help="first issue date")
    p.add_argument("--end", required=True, help="last issue date")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("respond", help="forecast → proposed warnings per tier, plan measures and bulletin drafts")
    p.add_argument("--forecast", required=True, help="forecast JSON from `lantian forecast --out F.json`")
    p.add_argument("--out", required=True, help="output directory (decisions.json, bulletins/*.md, *.docx)")
    p.add_argument("--rules", help="warning rule set (default: the forecast's)")
    p.add_argument("--audit", help="audit database: read the levels in force, record the proposals")
    p.add_argument("--data", help="data directory with enterprises.csv and inventory.csv: activate the "
                                  "emission-reduction lists and check the reduction shares; the consultation's "
                                  "adjustments stored there for the issue date are applied first")
    p.add_argument("--no-consultation", action="store_true",
                   help="ignore the consultation's adjustments (grade the model's forecast as it is)")
    p.set_defaults(func=_cmd_respond)

    p = sub.add_parser("audit", help="list or export the audit trail of warning decisions")
    p.add_argument("--db", required=True, help="audit database (SQLite)")
    p.add_argument("--area", help="only this area")
    p.add_argument("--last", type=int, default=30, help="show the last N events (default 30)")
    p.add_argument("--export", help="write every event to this CSV")
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("evaluate", help="post-episode evaluation: timeline, forecast and warning quality, effect")
    data_args(p)
    p.add_argument("--model", help="model directory whose archived forecasts to use")
    p.add_argument("--episode", help="START:END (default: every detected episode)")
    p.add_argument("--season", help="START:END: evaluate every detected episode inside (season summary)")
    p.add_argument("--areas", nargs="+", help="areas (default: those with AQI > 200 in the window)")
    p.add_argument("--warnings", help="warnings in force: audit database (.db) or CSV area_id,date,level[,issued]")
    p.add_argument("--decisions", help="the forecasts the warnings were decided on: CSV area_id, issue_date, "
                                       "target_date, lead_day, aqi (default: DIR/forecasts/decision_forecasts.csv)")
    p.add_argument("--out", required=True, help="output directory (JSON, HTML, summary)")
    p.set_defaults(func=_cmd_evaluate)
