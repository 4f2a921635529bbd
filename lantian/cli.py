"""The ``lantian`` command line: one thin module above the library packages.

It sits above ``forecast``, ``response`` and ``simulate`` (it composes all three; none of them imports it). Each
handler parses its arguments, calls one library function and prints the result; domain errors (``ValueError``
subclasses naming the file/value and the problem) and I/O errors become one line on stderr and exit status 2.
``lantian --debug …`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

EXIT_ERROR = 2


# ---- the region and the inputs of a data directory --------------------------------------------------------------

def _region(args):
    """The region of the command: ``--region``, else DIR/region/, else $LANTIAN_REGION, else the shipped one."""
    from forecast.region import load_region

    return load_region(getattr(args, "region", None), data=getattr(args, "data", None))


def _inputs(args):
    """Station observations and meteorology of ``--data`` for the command's region (read once, cached)."""
    from forecast import forecasting

    inputs = forecasting.load_inputs(args.data, cache=args.cache, progress=not args.quiet, region=_region(args))
    _history_notes(args, inputs.history_meta)
    return inputs


def _history_notes(args, report=None):
    """The station archive's report on stderr, one line each: stations outside the areas, a partial AQI …"""
    from forecast.history import last_report, report_lines

    for line in report_lines(report if report is not None else last_report(args.data, args.cache)):
        print(f"lantian {args.command}: note: {line}", file=sys.stderr)


# ---- station data ----------------------------------------------------------------------------------------------

def _cmd_stations(args) -> int:
    from forecast.history import build_history

    history, sites, report = build_history(args.data, cache=args.cache, progress=not args.quiet,
                                           refresh=args.refresh, out=args.out, areas=_region(args).areas)
    state = "cached store" if report["cached"] else "read"
    print(f"{report['files']} archive file(s), {len(sites)} station(s); {report['rows']} hourly values ({state})")
    for entry in report["skipped"]:
        if entry["action"] == "file skipped":
            print(f"  skipped {entry['file']}: {entry['problem']}", file=sys.stderr)
    rows = [e for e in report["skipped"] if e["action"] not in ("file skipped", "stations dropped")]
    if rows:
        print(f"  {len(rows)} row/column note(s); see read_log.csv in the cache", file=sys.stderr)
    for rec in report["removed"]:
        print(f"  QC removed {rec['count']:>7} {rec['pollutant']:<5} ({rec['reason']})")
    _history_notes(args, report)
    print(f"store: {args.out or report['store']}")
    return 0


def _cmd_daily(args) -> int:
    from forecast.history import area_table

    table = area_table(args.data, cache=args.cache, rolling=args.rolling, standard=args.standard, areas=args.area,
                       progress=not args.quiet, region=_region(args))
    _history_notes(args)
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
    from forecast.aqi import AQIError, aqi_table, iaqi

    if args.table:
        out = aqi_table(args.table, standard=args.standard, date_column=args.date_column)
        if args.out:
            out.to_csv(args.out, index=False)
            print(f"{len(out)} row(s) written to {args.out}")
        else:
            print(out.to_string(index=False, max_rows=60))
        return 0
    if not args.pollutant or args.value is None:
        raise AQIError("give --table FILE, or --pollutant KEY --value CONCENTRATION")
    if not math.isfinite(args.value) or args.value < 0:
        raise AQIError(f"--value {args.value!r}: a concentration is a finite number >= 0 [ug/m3; mg/m3 for CO]")
    print(json.dumps({"pollutant": args.pollutant, "concentration": args.value, "standard": args.standard,
                      "iaqi": iaqi(args.pollutant, args.value, standard=args.standard)}))
    return 0


# ---- the demo world --------------------------------------------------------------------------------------------

def _cmd_simulate(args) -> int:
    from simulate import simulate

    region = _region(args) if args.region else None
    summary = simulate(args.out, seed=args.seed, start=args.start, end=args.end, forecasts=args.forecasts,
                       progress=not args.quiet, workers=args.workers, analysis_step=args.analysis_step,
                       areas=region.areas if region is not None else args.areas,
                       boundaries=region.boundaries if region is not None else None,
                       region_folder=region.root if region is not None else None)
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    print(f"demo world written to {args.out}")
    return 0


# ---- meteorology and the forecaster ----------------------------------------------------------------------------

def _cmd_ingest(args) -> int:
    from forecast import meteorology

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers}: need at least 1 worker process")
    if args.workers is not None and args.scheduler:
        raise ValueError("--workers and --scheduler exclude each other: the scheduler's cluster has its own workers")
    # local worker processes: each decodes its files outside the others' interpreter (threads share one for the
    # Python part of each message)
    met, written = meteorology.ingest_drivers(args.data, cache=args.cache, scheduler_address=args.scheduler,
                                              workers=args.workers, progress=not args.quiet, refresh=args.refresh,
                                              out=args.out, at=args.at, region=_region(args), scheduler="processes")
    summary = met.summary()
    for rep in met.errors:
        print(f"  skipped {rep['file']}: {rep['error']}", file=sys.stderr)
    for rep in met.files:
        for problem in rep.get("problems") or []:
            print(f"  {Path(rep['file']).name}: {problem}", file=sys.stderr)
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
    from forecast.nomenclature import parse_day

    # dates first: a typo is an error before the data are read
    until = parse_day(args.until, "--until") if args.until else None
    start = parse_day(args.start, "--start") if args.start else None
    model = forecasting.train(args.data, args.model, until=until, start=start, cache=args.cache,
                              progress=not args.quiet, seed=args.seed, rounds=args.rounds, inputs=_inputs(args))
    card = model.card
    print(f"model {card['name']} {card['version']} written to {model.directory or args.model}")
    from forecast import registry

    if registry.is_versioned(args.model):
        promoted = registry.load(args.model).promoted
        print(f"promoted version: {promoted}" + (" (this one: the folder's first)" if promoted == card["version"] else
                                                 f"; compare, then promote: `lantian models compare --model "
                                                 f"{args.model} --candidate {card['version']} …`"))
    print(f"trained on {card['rows']} rows ({card['heavy_rows']} with AQI > 200), issue dates "
          f"{card['training_period'][0]} … {card['training_period'][1]}, {len(card['areas'])} areas; "
          f"meteorology from {card['met_source']}")
    return 0


# ---- model versions ------------------------------------------------------------------------------------------------

def _cmd_models(args) -> int:
    """``lantian models init|list|compare|promote|rollback``: the versions of a versioned model folder
    (:mod:`forecast.registry`); promote and rollback need an admin account (its password) and are recorded in the
    audit trail."""
    from forecast import registry

    if args.action == "init":
        reg = registry.init(args.model)
        found = reg.versions()
        print(f"{args.model}: versioned model folder; {len(found)} version(s)"
              + (f", promoted {reg.promoted}" if reg.promoted else "; the first version trained into it is promoted"))
        return 0
    if args.action == "list":
        rows = registry.listing(args.model)
        print(f"{'':2}{'version':<22} {'trained (issue dates)':<25} {'verified on':<25} "
              f"{'AQI>200 day 1 TS/POD/FAR/BSS':<30} {'day 3 TS/POD/FAR/BSS':<26} compared")
        for r in rows:
            tp, vp = r["training_period"], r["verification_period"]
            print(f"{'* ' if r['promoted'] else '  '}{r['version']:<22} "
                  f"{(tp[0] + ' … ' + tp[1]) if tp else '-':<25} {(vp[0] + ' … ' + vp[1]) if vp else '-':<25} "
                  f"{_scores_text(r['day1']):<30} {_scores_text(r['day3']):<26} "
                  f"{', '.join(p[0] + ' … ' + p[1] for p in r['compared']) or '-'}")
        if rows and not rows[0]["versioned"]:
            print(f"a plain, unversioned model folder: its one model, what `lantian forecast`, the app and the cycle "
                  f"use; `lantian models init --model {args.model}` makes it versioned (this model its promoted "
                  "version)")
        else:
            print(f"{len(rows)} version(s); * = promoted (what `lantian forecast`, the app and the cycle use)")
        return 0
    if args.action == "compare":
        result = registry.compare(args.model, args.candidate, args.data, args.start, args.end, cache=args.cache,
                                  inputs=_inputs(args), rules=args.rules, thresholds=_thresholds(args),
                                  progress=not args.quiet)
        print(_comparison_text(result))
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps({k: v for k, v in result.items() if k != "results"},
                                                 ensure_ascii=False, indent=1))
            print(f"comparison written to {args.out}")
        return 0
    # promote / rollback: an admin, logged in, recorded in the audit trail before the registry changes
    from response import audit

    reg = registry.load(args.model)  # a damaged registry or an unknown version is an error before the password
    if args.action == "promote":
        reg.version_dir(args.version)
    account, store_path = _model_admin(args)
    officer = account.describe()

    def record(entry):
        action = "model_promoted" if entry["action"] == "promoted" else "model_rolled_back"
        why = entry.get("reason") or ""
        if entry.get("comparison"):  # the justification in the trail: the comparison it rests on
            why = f"compared on {' … '.join(entry['comparison_period'])} ({entry['comparison']})" + \
                (f"; {why}" if why else "")
        elif entry.get("forced"):
            why = f"forced without a comparison: {why}"
        with audit.open_store(store_path) as store:
            return store.append(audit.model_event(
                action, version=entry["version"], previous=entry["previous"], officer=officer,
                model_dir=Path(args.model).resolve(), reason=why or None,
                details={k: entry.get(k) for k in ("forced", "comparison", "comparison_period") if k in entry}))

    if args.action == "promote":
        entry = registry.promote(args.model, args.version, user=officer, reason=args.reason, force=args.force,
                                 record=record)
        how = "FORCED without a comparison" if entry["forced"] else \
            f"compared on {' … '.join(entry['comparison_period'] or [])}" if entry["comparison"] else "first promotion"
        print(f"{args.model}: {entry['version']} promoted (was {entry['previous']}; {how}) by {officer}; "
              f"audit event {entry.get('audit_event')} in {store_path}")
    else:
        entry = registry.rollback(args.model, user=officer, reason=args.reason, record=record)
        print(f"{args.model}: rolled back to {entry['version']} (was {entry['previous']}) by {officer}; "
              f"audit event {entry.get('audit_event')} in {store_path}")
    return 0


def _model_admin(args):
    """The account of ``--user`` (its password from standard input or asked), allowed to replace the production
    model (``accounts.authorize``: the admin role), and the audit store to record in."""
    import os

    from forecast import workspace
    from response import accounts

    if args.audit:
        store_path = Path(args.audit)
    elif args.data:
        store_path = workspace.audit_path(args.data, args.cache)
    elif os.environ.get("LANTIAN_AUDIT"):
        store_path = Path(os.environ["LANTIAN_AUDIT"])
    else:
        raise accounts.AccountError(f"`lantian models {args.action}` records in the audit trail: give --audit DB or "
                                    "--data DIR (its workspace's audit.db), or set LANTIAN_AUDIT")
    path = Path(args.accounts or os.environ.get("LANTIAN_ACCOUNTS", "config/accounts.yaml"))
    known = accounts.load_accounts(path)
    if args.user not in known:
        raise accounts.AccountError(f"{path}: no account {args.user!r}; allowed: {', '.join(known) or 'none'}")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        import getpass

        password = getpass.getpass(f"password for {args.user}: ")
    store_path.parent.mkdir(parents=True, exist_ok=True)
    account = accounts.login(known, args.user, password, workspace_dir=store_path.parent)
    try:  # the right to "train or replace the production model" (response/data/roles.yaml): the admin role
        accounts.authorize(account, "train")
    except accounts.PermissionDenied as exc:
        raise accounts.PermissionDenied(f"`lantian models {args.action}` needs an admin account: {exc}") from None
    if accounts.demo_accounts({args.user: known[args.user]}) and not (args.data and workspace.is_demo_world(args.data)):
        raise accounts.PermissionDenied(f"{args.user} is a demo account (demo password): it promotes models only "
                                        "with --data naming a simulated demo world")
    return account, store_path


def _scores_text(rec) -> str:
    if not rec:
        return "-"
    return "/".join("-" if rec.get(k) is None else f"{rec[k]:.2f}" for k in ("ts", "pod", "far", "brier_skill_score"))


def _comparison_text(result: dict) -> str:
    """Both versions' scores on the same period, side by side per lead day (AQI > 200), and their warnings."""
    cur, cand = result["current"], result["candidate"]
    rows = {(r["version"], r["lead_day"]): r for r in result["side_by_side"]}
    leads = sorted({r["lead_day"] for r in result["side_by_side"]})
    lines = [f"{result['period'][0]} … {result['period'][1]}: promoted {cur} (A) vs candidate {cand} (B), "
             f"{result['results'][cur]['cases']} / {result['results'][cand]['cases']} cases; AQI > 200 per lead day",
             "  day   TS A   TS B  POD A  POD B  FAR A  FAR B  BSS A  BSS B"]

    def f(v):
        return "     -" if v is None else f"{v:>6.2f}"

    for d in leads:
        a, b = rows.get((cur, d), {}), rows.get((cand, d), {})
        lines.append(f"  {d:>3} " + " ".join(f(x.get(k)) + "" for k in ("ts", "pod", "far", "bss") for x in (a, b)))
    lines.append("warning levels (hits / misses / false alarms / exact-level accuracy):")
    for v, tag in ((cur, "A"), (cand, "B")):
        r = result["levels"][v]
        lines.append(f"  {tag} {v:<22} {r['hits']:>5} {r['misses']:>5} {r['false_alarms']:>5}  "
                     f"{r['exact_level_accuracy']}")
    lines.append(f"recorded in {result['file']} (a promotion of {cand} may cite it)")
    return "\n".join(lines)


def _cmd_forecast(args) -> int:
    from forecast import forecasting
    from forecast.nomenclature import parse_day

    issued = parse_day(args.issued, "--issued")  # before the data are read; checked against them by the library
    table = forecasting.run_forecast(args.data, args.model, issued, cache=args.cache, out=args.out,
                                     rules=args.rules, progress=not args.quiet, inputs=_inputs(args),
                                     thresholds=_thresholds(args))
    day1 = table[table["lead"] == 1].sort_values("area_id")
    cols = ["area_id", "target_date", "aqi_q10", "aqi_q50", "aqi_q90", "p_aqi_gt200", "dust", "p_ge_yellow",
            "p_ge_orange", "p_ge_red", "level"]
    print(day1[cols].to_string(index=False))
    first = table.iloc[0]
    print(f"levels decided with P(level >= L) thresholds yellow {first['threshold_yellow']:.2f}, orange "
          f"{first['threshold_orange']:.2f}, red {first['threshold_red']:.2f} ({first['threshold_source']})")
    if set(table["met_source"]) == {"analysis"}:
        print("met_source: analysis (the analyses of the target days stand in for a forecast run)")
    for note in table.attrs.get("warnings", []):
        print(f"lantian forecast: warning: {note}", file=sys.stderr)
    if args.out:
        print(f"forecast written to {args.out}")
    return 0


def _cmd_verify(args) -> int:
    from forecast import forecasting

    from forecast import verification

    # the period first (dates, start before end): a typo is an error before the data are read
    start, end = forecasting.issue_period(args.start, args.end, names=("--start", "--end"))
    in_force, record = _in_force(args)
    result = forecasting.run_verify(args.data, args.model, start, end, cache=args.cache, out=args.out,
                                    rules=args.rules, progress=not args.quiet, inputs=_inputs(args),
                                    thresholds=_thresholds(args), in_force=in_force,
                                    update_card=not args.no_record)
    print(result["table"])
    if result.get("under_measures"):
        print(verification.under_measures_text(result["under_measures"]))
        print(f"  (warnings record: {record})")
    print(verification.reliability_text(result["reliability"]))
    print("\nwarning levels (hits / misses / false alarms / exact-level accuracy):")
    for r in result["levels"]:
        print(f"  {r['model']:<12} {r['hits']:>5} {r['misses']:>5} {r['false_alarms']:>5}  "
              f"{r['exact_level_accuracy']}")
    dec = result["level_decision"]
    print(f"\nlantian's levels decided with thresholds {_fmt_thresholds(dec['thresholds'])} ({dec['source']}); "
          "the same record with one threshold for every level:")
    print(_sweep_text(dec["sweep"]))
    for note in result.get("warnings", []):
        print(f"lantian verify: warning: {note}", file=sys.stderr)
    if args.out:
        print(f"scores written to {args.out}")
    print("model card: left as it was (--no-record)" if args.no_record else
          f"model card: verification of {result['period'][0]} … {result['period'][1]} recorded (the consultation page "
          "shows it; --no-record leaves the card as it was)")
    return 0


def _in_force(args):
    """``(warnings in force per area and day, the record read)`` from the data's warnings record (the workspace's
    audit store with decisions, else ``DIR/warnings/issued.csv``; :func:`response.episodes.warnings_record`), or
    ``(None, None)`` without one. An unreadable record is a note, not an error: the verification goes on without
    the split."""
    from forecast import workspace
    from response import episodes

    try:
        record = episodes.warnings_record(args.data, workspace.audit_path(args.data, args.cache))
        return (None, None) if record is None else (episodes.read_warnings(record), record)
    except (ValueError, OSError) as exc:  # a damaged audit store or CSV: the scores do not depend on it
        print(f"lantian verify: note: the warnings record cannot be read ({exc}); false alarms are not split by "
              "the measures in force", file=sys.stderr)
        return None, None


def _thresholds(args):
    """``--thresholds`` parsed (None when not given: the thresholds in force apply)."""
    from forecast import decision

    text = getattr(args, "thresholds", None)
    return decision.parse_thresholds(text, source="--thresholds") if text else None


def _fmt_thresholds(t: dict) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in t.items())


def _sweep_text(rows) -> str:
    lines = ["  threshold  hits  misses  false alarms    TS  exact  too high  too low"]
    for r in rows:
        lines.append(f"  {r['threshold']:>9.2f} {r['hits']:>5} {r['misses']:>7} {r['false_alarms']:>13} "
                     f"{r['ts']:>5.2f} {r['exact']:>6.2f} {r['too_high']:>9} {r['too_low']:>8}")
    return "\n".join(lines)


def _cmd_thresholds(args) -> int:
    from forecast import decision, forecasting

    region = _region(args)
    if args.action == "set":
        if not args.value:
            raise decision.DecisionError("`lantian thresholds set` needs --value (0.3 or yellow=0.4,orange=0.3,red=0.2)")
        t = decision.parse_thresholds(args.value, source="--value")
        path = decision.save_setting(t, data=args.data, cache=args.cache, by=args.by or "", reason=args.reason or "")
        print(f"thresholds {_fmt_thresholds(t.as_dict())} set by {args.by} (recorded in {path})")
    t = decision.thresholds_in_force(args.data, cache=args.cache, region=region,
                                     given=_thresholds(args) if args.action == "show" else None)
    print(f"in force: {_fmt_thresholds(t.as_dict())} ({t.source})")
    _, problems = decision.settings(args.data, args.cache)
    for line in problems:
        print(f"lantian thresholds: warning: unreadable setting skipped: {line}", file=sys.stderr)
    if args.model:
        record, what = forecasting.level_record(args.model)
        if record.empty:
            print(f"{args.model}: no level record (train the model, then `lantian verify`)")
            return 0
        c = decision.consequences(record, t)
        print(f"on the {what} record of {args.model} ({c['n']} area-days): {c['hits']} hits, {c['misses']} misses, "
              f"{c['false_alarms']} false alarms; exact level {c['exact']:.2f}, {c['too_high']} too high, "
              f"{c['too_low']} too low")
        print(_sweep_text(decision.sweep(record).to_dict("records")))
    return 0


def _cmd_accounts(args) -> int:
    from response import accounts

    if args.action == "list":
        for user, rec in accounts.load_accounts(args.file).items():
            scope = f" {rec.get('tier')} {rec.get('area') or ''}".rstrip() if rec.get("tier") else ""
            print(f"{user:<16} {rec.get('role', 'viewer'):<10}{scope:<20} {rec.get('name_zh', '')}")
        demo = accounts.demo_accounts(accounts.load_accounts(args.file))
        if demo:
            print(f"demo accounts (demo password; refused on real data): {', '.join(demo)}")
        return 0
    if not args.user or not args.name or not args.role:
        raise accounts.AccountError("`lantian accounts add` needs --user, --name and --role")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        import getpass

        password = getpass.getpass(f"password for {args.user}: ")
        if getpass.getpass("again: ") != password:
            raise accounts.AccountError("the two passwords differ")
    if args.area and args.tier in ("city", "county"):  # an officer of an area the region has could never issue
        region = _region(args)
        tiers = dict(zip(region.areas["area_id"], region.areas["tier"]))
        if tiers.get(args.area) != args.tier:
            allowed = sorted(a for a, t in tiers.items() if t == args.tier)
            raise accounts.AccountError(f"area {args.area!r} is not a {args.tier} of {region.name}; allowed: "
                                        f"{', '.join(allowed)}")
    path = accounts.add_account(args.file, args.user, password, name_zh=args.name, role=args.role, tier=args.tier,
                                area=args.area, replace=args.replace)
    print(f"account {args.user} ({args.role}{' ' + args.tier if args.tier else ''}"
          f"{' ' + args.area if args.area else ''}) written to {path} (password stored as a bcrypt hash only)")
    return 0


# ---- response ----------------------------------------------------------------------------------------------------

def _cmd_respond(args) -> int:
    from response.respond import respond

    result = respond(args.forecast, out_dir=args.out, rules=args.rules, store=args.audit, data=args.data,
                     consultation=not args.no_consultation, region=_region(args))
    cons = result.get("consultation") or {}
    for problem in cons.get("problems", []):
        print(f"skipped consultation record: {problem}", file=sys.stderr)
    if cons.get("adjustments"):
        print(f"applied {cons['adjustments']} consultation adjustment(s) of {result['issue_date']} "
              f"({', '.join(cons['areas'])})")
    for tier in ("region", "city", "county"):
        for rec in result[tier]:
            if tier == "region":
                sourced = "sourced" if rec.get("trigger_sourced") else "UNVERIFIED, configurable"
                print(f"[region] {rec['name_zh']}: {rec['level']} ({', '.join(rec['triggered_by'])}); "
                      f"trigger: {rec.get('trigger', '')} [{sourced}]")
                for note in rec.get("notes", []):
                    print(f"  注：{note}")
            elif (rec["action"] != "none" or rec["health_advisory"]) and rec.get("has_forecast", True):
                extra = " + 健康提示" if rec["health_advisory"] else ""
                print(f"[{tier}] {rec['name_zh']}: {rec['action']} → {rec['level']}{extra}  {rec['reason']}")
    _print_county_table(result)
    red = result.get("reduction")
    if red and "share_check" in red:
        print(f"emission-reduction lists: {red['activated']} of {red['enterprises']} enterprises activated; "
              f"{len(red['bad_rows'])} bad registry row(s)")
        from response.reduction import verdict_text

        for note in red.get("standardisation", []):
            print(f"  list not standardised: {note}")
        for r in red["share_check"]:
            print(f"  {r['area_id']:<10} {r['pollutant']:<5} {verdict_text(r)}")
    elif red:
        print(red["note"])
    print(f"{len(result['bulletin_objects'])} bulletin draft(s); decisions written to {args.out}/decisions.json")
    return 0


def _cmd_briefing(args) -> int:
    """The consultation briefing (会商材料) of an issue date: Word, and PDF where LibreOffice is on the PATH."""
    from forecast.nomenclature import parse_day
    from response import briefing as BR

    issued = parse_day(args.issued, "--issued")  # the date and the output first: a typo is an error before any work
    out = BR.check_out(args.out or f"briefing_{issued:%Y%m%d}.docx")
    result = BR.make_briefing(args.data, args.model, issued, out, lang=args.lang, cache=args.cache, rules=args.rules,
                              thresholds=_thresholds(args), consultation=not args.no_consultation, audit=args.audit,
                              progress=not args.quiet, region=_region(args), maps=not args.no_maps)
    source = "the archived forecast" if result["forecast_source"] == "archive" else "a forecast run now (none archived)"
    print(f"briefing of {issued.date()} from {source}: {len(result['briefing'].headings(1))} sections")
    if result["fields_problem"]:
        print(f"lantian briefing: note: no meteorological maps: {result['fields_problem']}", file=sys.stderr)
    print(f"written: {result['docx']}")
    print(f"written: {result['pdf']}" if result["pdf"] else f"PDF: {result['pdf_note']}")
    return 0


def _cmd_lists(args) -> int:
    """Check the emission-reduction list of ``--data``: bad rows, the standardised list (credit codes, version and
    year, 一厂一策 units), the registry's grades against an indicator assessment, and a roster's coverage. Exit 0 when
    nothing was found, 1 when something was (each finding printed), 2 on unusable input."""
    from response import grading as G
    from response import reduction as R

    data = Path(args.data)
    registry, bad = R.load_registry(data / "enterprises.csv", areas=_region(args).areas)
    version, year = R.list_identity(registry)
    processes = R.load_processes(data / "processes.csv", registry) if (data / "processes.csv").exists() else None
    print(f"list {version} ({year}): {len(registry)} enterprises, {len(bad)} bad row(s)")
    findings = len(bad)
    for r in bad.itertuples():
        print(f"  enterprises.csv line {r.row} ({r.enterprise_id}): {r.problem}")
    for note in R.standardisation_problems(registry, processes):
        findings += 1
        print(f"  not standardised: {note}")
    assessment = Path(args.assessment) if args.assessment else data / "grading.csv"
    if assessment.exists():
        graded = G.grade_enterprises(G.load_assessments(assessment, registry))
        diff = G.check_registry(registry, graded)
        print(f"grading: {len(graded)} enterprise(s) graded from indicators, {len(diff)} disagreement(s)"
              + (" (some indicators graded by UNVERIFIED placeholder thresholds)" if graded["uses_unverified"].any()
                 else ""))
        findings += len(diff)
        for r in diff.itertuples():
            print(f"  {r.enterprise_id} {r.name}: list {r.registry_grade or '-'}, indicators {r.indicator_grade} "
                  f"({r.direction}; limited by {r.limiting or '-'}"
                  f"{'; missing ' + r.missing if r.missing else ''})")
    if args.roster:
        missed = R.coverage_check(registry, R.load_roster(args.roster))
        print(f"coverage: {len(missed)} air-emitting enterprise(s) of {args.roster} not in the list")
        findings += len(missed)
        for r in missed.itertuples():
            print(f"  {args.roster} line {r.line}: {r.credit_code} {r.name}")
    return 1 if findings else 0


def _print_county_table(result: dict) -> None:
    """Every banner/county of the decisions, grouped by league/city and by level and action (``*``: a forecast of
    its own; the others follow their league/city's)."""
    counties = result.get("county", [])
    if not counties:
        return
    cities = {r["area_id"]: r for r in result.get("city", [])}
    print(f"banners/counties: {len(counties)} (* own forecast; the others follow their league/city's forecast "
          "and level)")
    groups: dict = {}
    for r in counties:
        groups.setdefault(r.get("parent_id"), []).append(r)
    order = [c for c in cities if c in groups] + [p for p in groups if p not in cities]
    for parent in order:
        recs, city = groups[parent], cities.get(parent)
        head = f"{city['name_zh']} {city['level']}" if city else str(parent)
        parts: dict = {}
        for r in recs:
            key = r["level"] + ("" if r["action"] == "none" else f" {r['action']}") + \
                (" + 健康提示" if r["health_advisory"] else "")
            parts.setdefault(key, []).append(r["name_zh"] + ("*" if r.get("has_forecast") else ""))
        print(f"  {head} ({len(recs)}): " + "; ".join(f"{k}: {'、'.join(v)}" for k, v in parts.items()))


def _cmd_audit(args) -> int:
    """List, verify (exit 0 intact, 1 tampered; 2, via ``main``, unreadable), print the head of, or export the
    audit trail. The store must exist: a typo is an error, not a new empty store."""
    from response.audit import open_store
    from response.sanitize import plain  # names and reasons are data: no control characters reach the terminal

    with open_store(args.db, create=False) as store:
        status = 0
        if args.export:  # first: a refused export (onto the store, onto a file without --force) ends the command
            store.export_csv(args.export, force=args.force)
            print(f"exported to {args.export}")
        if args.verify or args.anchor:
            report = store.verify(anchors=args.anchor or ())
            print("\n".join(report.lines()))
            status = 0 if report.intact else 1
        if args.head:
            head = store.chain_head()
            print(f"{head.anchor}  (event {head.event_id}, recorded {head.recorded_at})" if head else
                  f"{args.db}: no events yet (empty audit store)")
        if not (args.verify or args.anchor or args.head):
            events = store.events(args.area)
            for e in events[-args.last:]:
                print(f"{e['id']:>5} {plain(e['recorded_at'])[:19]} {plain(e['action']):<10} "
                      f"{plain(e['area_id']):<12} {plain(e['level']):<7} {plain(e['officer'])}  {plain(e['reason'])}")
            bad = store.verify_bulletins()
            print(f"{len(events)} event(s); bulletin hashes {'all match' if not bad else f'MISMATCH in {bad}'}")
    return status


def _cmd_evaluate(args) -> int:
    from response import evaluation as E

    result = E.evaluate(args.data, args.out, episode=args.episode, season=args.season, areas=args.areas,
                        model_dir=args.model, warnings=args.warnings, cache=args.cache, decisions=args.decisions,
                        progress=not args.quiet, region=_region(args))
    print(f"warnings record: {result['warnings'] or 'none (no audit store with decisions, no warnings/issued.csv)'}")
    for report, paths in zip(result["reports"], result["paths"]):
        print(report["summary_zh"])
        print(f"  report: {paths['html']}")
        for area, gaps in report["gaps"].items():
            print(f"  data gaps {area}: {', '.join(gaps)}", file=sys.stderr)
    if result["season_summary"] is not None:
        print(json.dumps(result["season_summary"], ensure_ascii=False))
    return 0


def _cmd_demo(args) -> int:
    from lantian import demo

    if args.action == "ship":
        path = demo.ship_model(args.model, args.data)
        print(f"demo model shipped to {path} (trained on the world with fingerprint "
              f"{json.loads((path / demo.FINGERPRINT_FILE).read_text())['fingerprint'][:12]}…)")
        return 0
    log = (lambda line: None) if args.quiet else (lambda line: print(f"lantian demo: {line}", flush=True))
    done = demo.prepare(args.data, args.model, shipped=None if args.train else demo.SHIPPED_MODEL,
                        rounds=args.rounds, log=log)
    for step in done["status"]["steps"]:
        secs = f"{step['seconds']:.0f} s" if step["seconds"] is not None else ""
        print(f"  {step['key']:<9} {step['state']:<8} {secs:>6}  {step['detail']}")
    print(f"demo ready: data {args.data}, model {args.model}")
    return 0


# ---- the daily cycle ---------------------------------------------------------------------------------------------

def _cmd_cycle(args) -> int:
    """One daily run (:mod:`lantian.cycle`): exit 0 ok or degraded (a warning line), 2 refused (one line)."""
    from forecast.nomenclature import parse_day
    from lantian import cycle

    cfg = cycle.load_config(args.config)
    issued = parse_day(args.issued, "--issued") if args.issued else cycle.default_issue_date()
    model = args.model or cfg["model"]
    if args.dry_run:
        for line in cycle.describe_plan(cycle.plan(args.data, model, cfg, issued, cache=args.cache)):
            print(line)
        return 0
    rec = cycle.run_cycle(args.data, model, issued=issued, config=cfg, cache=args.cache,
                          region=getattr(args, "region", None), audit=args.audit,
                          echo=None if args.quiet else print)
    if rec["state"] == "refused":
        print(f"lantian cycle: error: refused: {cycle.reason_text(rec['reason'], 'en')}", file=sys.stderr)
        return EXIT_ERROR
    if rec["state"] == "degraded":
        print(f"lantian cycle: warning: degraded: {'; '.join(cycle.degraded_texts(rec['degraded'], 'en'))}",
              file=sys.stderr)
    failed = [n for n in rec["notifications"] if not n["ok"]]
    for n in failed:
        print(f"lantian cycle: warning: notification to {n['target']} failed: {n['error']}", file=sys.stderr)
    print(f"cycle {rec['run_id']}: {rec['state']}{' (inputs unchanged)' if rec['unchanged'] else ''}; "
          f"{len(rec['changes'])} change(s); {sum(n['ok'] for n in rec['notifications'])} notification(s) sent")
    return 0


# ---- the parser --------------------------------------------------------------------------------------------------

def _data_args(p, required=True):
    p.add_argument("--data", required=required, help="data directory (layout in README)")
    p.add_argument("--region", help="region folder (areas.csv, boundaries.geojson, plans.yaml, calendar.yaml, "
                                    "warning_rules.yaml; default DIR/region/, else $LANTIAN_REGION, else the shipped "
                                    "Inner Mongolia)")
    p.add_argument("--cache", help="cache directory (default DIR/.lantian, or ~/.cache/lantian if read-only)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _model_args(p, out_help):
    _data_args(p)
    p.add_argument("--model", required=True, help="trained model directory")
    p.add_argument("--out", help=out_help)
    p.add_argument("--rules", help="warning rule set (MEE-2019, MEE-2024; default: the one in force on the date)")
    p.add_argument("--thresholds", help="decision thresholds of P(level >= L): 0.3, or yellow=0.4,orange=0.3,red=0.2 "
                   "(default: those in force — the consultation's setting, the region's, the shipped ones)")


class _Parser(argparse.ArgumentParser):
    """argparse with the command's error convention: a bad argument is one line on stderr and exit status 2 (the
    usage is one ``--help`` away), as every other bad input."""

    def error(self, message):
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lantian", description="lantian 蓝天: heavy-pollution forecasting and "
                                     "emergency response for Inner Mongolia")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("stations", help="read + quality-control the CNEMC station archive into a parquet store")
    _data_args(p)
    p.add_argument("--out", help="also write the store here (parquet)")
    p.add_argument("--refresh", action="store_true", help="ignore the cached store")
    p.set_defaults(func=_cmd_stations)

    p = sub.add_parser("daily", help="area (league/city, banner/county) daily or rolling-24-h AQI")
    _data_args(p)
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
    p.add_argument("--areas", help="area table CSV to build the world for (default: the shipped Inner Mongolia table)")
    p.add_argument("--region", help="region folder to build the world for (its areas and boundaries; copied to "
                                    "OUT/region/ so that every later command on OUT uses it)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("ingest", help="GRIB meteorology → per-area series and daily drivers (cached)")
    _data_args(p)
    p.add_argument("--workers", type=int, help="local worker processes, one GRIB file each at a time (default: CPU "
                                               "count, at most 4; 1: in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of a dask.distributed scheduler (e.g. tcp://10.0.0.5:8786) to run the file tasks on "
                        "its workers instead")
    p.add_argument("--refresh", action="store_true", help="ignore cached series and extract every file again")
    p.add_argument("--at", default="auto", choices=["auto", "stations", "areas"],
                   help="stations: at each area's monitoring stations, the cache `train` and `forecast` use; areas: "
                        "means over the area polygons; auto (default): stations when DIR has a station list")
    p.add_argument("--out", help="directory for drivers_daily.parquet / drivers_lead_days.parquet (default: cache)")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("train", help="train the LightGBM AQI forecaster and write it with its model card")
    _data_args(p)
    p.add_argument("--model", required=True, help="model directory to write")
    p.add_argument("--until", help="last day whose observations may be used (default: all)")
    p.add_argument("--start", help="first issue date (default: the start of the history)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=300, help="boosting rounds per booster (default 300)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("models", help="model versions: list them, compare a candidate with the promoted one on a "
                                      "held-out period, promote one (admin), roll back (admin)")
    msub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    m = msub.add_parser("init", help="make a folder versioned (a plain model folder becomes its first, promoted "
                                     "version)")
    m.add_argument("--model", required=True, help="model folder")
    m = msub.add_parser("list", help="versions, training periods, verification scores, which is promoted")
    m.add_argument("--model", required=True, help="versioned model folder")
    m = msub.add_parser("compare", help="verify the promoted version and a candidate on the same held-out period "
                                        "(after both training periods), side by side, and record it")
    _model_args(m, "write the comparison (JSON) here")
    m.add_argument("--candidate", required=True, help="the version to compare with the promoted one")
    m.add_argument("--start", required=True, help="first issue date (after both training periods)")
    m.add_argument("--end", required=True, help="last issue date")
    for action, text in (("promote", "make VERSION the promoted version (needs a comparison on record, or --force "
                                     "--reason)"),
                         ("rollback", "return to the version promoted before the current one")):
        m = msub.add_parser(action, help=text)
        m.add_argument("--model", required=True, help="versioned model folder")
        if action == "promote":
            m.add_argument("version", metavar="VERSION", help="the version to promote (`lantian models list`)")
            m.add_argument("--force", action="store_true", help="promote without a comparison (needs --reason)")
        m.add_argument("--user", required=True, help="login id of an admin account (its password is asked, or read "
                                                      "with --password-stdin)")
        m.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        m.add_argument("--reason", help="why (recorded)")
        m.add_argument("--accounts", help="accounts file (default $LANTIAN_ACCOUNTS, else config/accounts.yaml)")
        m.add_argument("--audit", help="audit database to record in (default: the workspace's of --data, else "
                                       "$LANTIAN_AUDIT)")
        m.add_argument("--data", help="data directory whose workspace audit store records the change")
        m.add_argument("--cache", help="cache directory of --data")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("forecast", help="forecast AQI, exceedance and warning-level probabilities for an issue date")
    _model_args(p, "write the forecast as .json or .csv")
    p.add_argument("--issued", required=True, help="issue date (YYYY-MM-DD; issue time 16:00 CST)")
    p.set_defaults(func=_cmd_forecast)

    p = sub.add_parser("thresholds", help="the warning decision thresholds: show those in force (and their "
                       "consequences on a model's record), or set them for the consultation")
    p.add_argument("action", choices=["show", "set"])
    _data_args(p)
    p.add_argument("--model", help="model directory: count the consequences on its verification (or training) record")
    p.add_argument("--value", help="thresholds to set (0.3, or yellow=0.4,orange=0.3,red=0.2)")
    p.add_argument("--thresholds", help="with show: thresholds to count the consequences of (not saved)")
    p.add_argument("--by", help="with set: who sets them (recorded)")
    p.add_argument("--reason", help="with set: why (recorded)")
    p.set_defaults(func=_cmd_thresholds)

    p = sub.add_parser("accounts", help="the app's accounts: add one (the password is hashed) or list them")
    p.add_argument("action", choices=["add", "list"])
    p.add_argument("--file", required=True, help="accounts file (YAML; created if missing, written atomically, mode 600)")
    p.add_argument("--user", help="login id")
    p.add_argument("--name", help="display name (e.g. 王某（包头市生态环境局）)")
    p.add_argument("--role", choices=["viewer", "consultant", "officer", "admin"])
    p.add_argument("--tier", choices=["region", "city", "county"], help="officers: the tier they issue for")
    p.add_argument("--area", help="officers of a city or county: their area id")
    p.add_argument("--replace", action="store_true", help="change an existing account")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.add_argument("--region", help="region folder whose area table the officer's area must be in (default: the "
                   "shipped Inner Mongolia)")
    p.set_defaults(func=_cmd_accounts)

    p = sub.add_parser("verify", help="rolling-origin hindcast against persistence and climatology")
    _model_args(p, "write the scores (JSON contract) here")
    p.add_argument("--start", required=True, help="first issue date")
    p.add_argument("--end", required=True, help="last issue date")
    p.add_argument("--no-record", action="store_true",
                   help="leave the model card's verification and the threshold record as they are (an ad-hoc "
                        "period; by default they are replaced with this period's: the consultation page shows them)")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("respond", help="forecast → proposed warnings per tier (every banner/county of the region: "
                                       "those without a station follow their league/city), plan measures and "
                                       "bulletin drafts")
    p.add_argument("--forecast", required=True, help="forecast JSON from `lantian forecast --out F.json`")
    p.add_argument("--out", required=True, help="output directory (decisions.json, bulletins/*.md, *.docx)")
    p.add_argument("--rules", help="warning rule set (default: the one in force on the issue date)")
    p.add_argument("--audit", help="audit database: the warning state per area comes from its events, and the "
                                   "proposals are recorded there")
    p.add_argument("--data", help="data directory with enterprises.csv and inventory.csv: activate the "
                                  "emission-reduction lists and check the reduction shares; the consultation's "
                                  "adjustments stored there for the issue date are applied first")
    p.add_argument("--no-consultation", action="store_true",
                   help="ignore the consultation's adjustments (grade the model's forecast as it is)")
    p.add_argument("--region", help="region folder (areas.csv, boundaries.geojson, plans.yaml; default "
                                    "DIR/region/ of --data, else $LANTIAN_REGION, else the shipped Inner Mongolia; "
                                    "without plans.yaml the national default plans)")
    p.set_defaults(func=_cmd_respond)

    p = sub.add_parser("briefing", help="the consultation briefing (会商材料) of an issue date: level map, 7-day table, "
                                        "drivers, meteorological maps, proposed levels per tier, recent verification "
                                        "(Word; PDF where LibreOffice is on the PATH)")
    _model_args(p, "Word file to write (.docx; default briefing_YYYYMMDD.docx here); a PDF is written beside it")
    p.add_argument("--issued", required=True, help="issue date (YYYY-MM-DD): its archived forecast, else a forecast "
                                                   "run now (always run with --rules or --thresholds)")
    p.add_argument("--lang", default="zh", choices=["zh", "en"], help="language of the document (default zh)")
    p.add_argument("--audit", help="audit database to read the warnings in force from (never written)")
    p.add_argument("--no-consultation", action="store_true",
                   help="ignore the consultation's adjustments of the issue date")
    p.add_argument("--no-maps", action="store_true", help="leave out the meteorological maps (no GRIB reading)")
    p.set_defaults(func=_cmd_briefing)

    p = sub.add_parser("lists", help="check the emission-reduction list: bad rows, standardisation (credit codes, "
                                     "version, 一厂一策 units), grades against indicators, roster coverage")
    p.add_argument("action", choices=["check"])
    p.add_argument("--data", required=True, help="data directory with enterprises.csv (and processes.csv)")
    p.add_argument("--assessment", help="indicator assessment CSV (default DIR/grading.csv when it exists)")
    p.add_argument("--roster", help="permit / key-polluter roster CSV (credit_code, name[, air]): list the "
                                    "air-emitting enterprises the list misses")
    p.add_argument("--region", help="region folder (areas.csv; default DIR/region/ of --data, else $LANTIAN_REGION, "
                                    "else the shipped Inner Mongolia)")
    p.set_defaults(func=_cmd_lists)

    p = sub.add_parser("audit", help="list, verify or export the audit trail of warning decisions")
    p.add_argument("--db", required=True, help="audit database (SQLite; must exist)")
    p.add_argument("--area", help="only this area")
    p.add_argument("--last", type=int, default=30, help="show the last N events (default 30)")
    p.add_argument("--verify", action="store_true",
                   help="check the hash chain, the ids, the triggers and the bulletin hashes; exit 0 when intact, "
                        "1 when tampered (the report names the first bad event), 2 when the file is unreadable")
    p.add_argument("--head", action="store_true",
                   help="print the chain head ID:SHA256, the anchor to keep outside the store (bulletin footer, "
                        "daily export)")
    p.add_argument("--anchor", action="append", metavar="ID:SHA256",
                   help="a head printed earlier by --head: verify also that the trail still has it (repeatable; "
                        "implies --verify)")
    p.add_argument("--export", help="write every event to this CSV (never onto the store; spreadsheet-safe)")
    p.add_argument("--force", action="store_true", help="let --export replace an existing file")
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("evaluate", help="post-episode evaluation: timeline, forecast and warning quality, effect")
    _data_args(p)
    p.add_argument("--model", help="model directory whose archived forecasts to use")
    p.add_argument("--episode", help="START:END (default: every detected episode)")
    p.add_argument("--season", help="START:END: evaluate every detected episode inside (season summary)")
    p.add_argument("--areas", nargs="+", help="areas (default: those with AQI > 200 in the window)")
    p.add_argument("--warnings", help="warnings in force: audit database (.db) or CSV area_id,date,level[,issued] "
                                      "(default: the workspace's audit store if it holds decisions, else "
                                      "DIR/warnings/issued.csv)")
    p.add_argument("--decisions", help="the forecasts the warnings were decided on: CSV area_id, issue_date, "
                                       "target_date, lead_day, aqi (default: DIR/forecasts/decision_forecasts.csv)")
    p.add_argument("--out", required=True, help="output directory (JSON, HTML, summary)")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("demo", help="prepare the demo's complete story (world, model, verification, archived "
                                    "forecasts, demo warning history), or ship a trained demo model")
    p.add_argument("action", choices=("prepare", "ship"),
                   help="prepare: every missing step, progress in DIR/.lantian/demo_status.json; ship: copy --model "
                        "to models/demo-seed7 with the fingerprint of the world in --data")
    p.add_argument("--data", default="demo", help="the demo world's folder (default demo; simulated when empty)")
    p.add_argument("--model", default="models/demo", help="the demo model's folder (default models/demo)")
    p.add_argument("--train", action="store_true", help="train even when the shipped model fits the world")
    p.add_argument("--rounds", type=int, help="boosting rounds when training (default the forecaster's)")
    p.add_argument("--quiet", action="store_true", help="only the summary")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("cycle", help="the daily run: fetch meteorology and stations, check their freshness, "
                                     "forecast, propose per tier (never issue), brief, notify (config/cycle.yaml)")
    _data_args(p)
    p.add_argument("--model", help="model directory (default: the configuration's `model`)")
    p.add_argument("--issued", help="issue date (YYYY-MM-DD; default today, China Standard Time)")
    p.add_argument("--config", help="cycle configuration (YAML, layout of config/cycle.yaml; default: no sources, "
                                    "no notification)")
    p.add_argument("--audit", help="audit database the warnings in force are read from (never written; default "
                                   "the workspace's audit.db)")
    p.add_argument("--dry-run", action="store_true", help="print what the run would fetch and run; write nothing")
    p.set_defaults(func=_cmd_cycle)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        with warnings.catch_warnings():
            if not args.debug:  # a library warning is one line on stderr, like an error (default filters)
                warnings.showwarning = lambda message, category, *rest, **kw: print(
                    f"lantian {args.command}: warning: {message}", file=sys.stderr)
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
        message = " ".join(message.split())  # one line, whatever a library's message (a YAML parser's) holds
        print(f"lantian {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
