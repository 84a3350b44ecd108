"""`python -m bench` (`make bench`): every benchmark in its own process, then one table.

Each benchmark writes bench/out/<name>.json; this prints the figures side by side with the
targets and writes bench/out/summary.json. `--quick` runs smaller sizes for a smoke test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from bench.common import OUT, machine


def _run(module: str, *args: str) -> dict[str, Any]:
    print(f"… {module} {' '.join(args)}", file=sys.stderr, flush=True)
    done = subprocess.run(  # noqa: S603 - our own interpreter and modules
        [sys.executable, "-m", f"bench.{module}", *args], stdout=subprocess.PIPE, text=True
    )
    if done.returncode != 0:
        return {"error": f"bench.{module} exited {done.returncode}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _rows(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    u = results.get("updates", {})
    if "app" in u:
        a, i = u["app"], u["interleaved"]
        rates = i["updates_per_s"]
        rows += [
            ("updates/s, real dispatcher (10k updates, 500 users)", f"{rates['ours']:.0f}", ""),
            ("  latency p50 / p99 (ms)",
             f"{i['p50_ms']['ours']:.2f} / {i['p99_ms']['ours']:.2f}", ""),
            ("  peak RSS (MB)", f"{a['peak_rss_mb']:.0f}", ""),
            ("updates/s, typical aiogram + aiosqlite peer", f"{rates['peer']:.0f}", ""),
            ("updates/s, bare aiogram echo (same updates)", f"{rates['echo']:.0f}", ""),
            ("  ratio ours / peer", f"{u['ratio_ours_to_peer']:.2f}", "≥ 1.2"),
            ("  ratio ours / peer in CPU time", f"{u.get('ratio_ours_to_peer_cpu', 0):.2f}", ""),
            ("  ratio ours / echo", f"{u['ratio_app_to_bare']:.2f}", ""),
        ]  # fmt: skip
    if "ours_postgresql" in u.get("interleaved", {}).get("updates_per_s", {}):
        i, pg = u["interleaved"], u["postgresql"]
        rows += [
            ("updates/s, ours on PostgreSQL (same rounds)",
             f"{i['updates_per_s']['ours_postgresql']:.0f}", ""),
            ("  latency p50 / p99 (ms)",
             f"{i['p50_ms']['ours_postgresql']:.2f} / {i['p99_ms']['ours_postgresql']:.2f}", ""),
            ("  ratio ours on PostgreSQL / peer on aiosqlite",
             f"{pg['ratio_ours_to_peer']:.2f}", ""),
            ("  ratio ours on PostgreSQL / echo", f"{pg['ratio_app_to_bare']:.2f}", ""),
        ]  # fmt: skip
    r = results.get("report", {})
    for run in r.get("runs", []):
        n = run["activities"]
        rows += [
            (f"report CLI, {n:,} activities (s)", f"{run['cli_s']:.2f}",
             "< 1" if n == 100_000 else ""),
            ("  child peak RSS (MB)", f"{run['cli_peak_rss_mb']:.0f}",
             "< 200" if n == 100_000 else ""),
            ("  load + plan_progress (ms)",
             f"{run['load_s'] * 1000:.0f} + {run['plan_progress_s'] * 1000:.0f}",
             "< 200" if n == 100_000 else ""),
        ]  # fmt: skip
    if "runs" in r:
        rows.append(
            ("  growth 1k→100k vs linear (CLI / progress)",
             f"{r['cli_growth_vs_linear']:.2f} / {r['progress_growth_vs_linear']:.2f}", "≤ 1")
        )  # fmt: skip
    d = results.get("delivery", {})
    if "ceiling" in d:
        c, p, p95 = d["ceiling"], d["paced"], d.get("paced_at_95", {})
        rows += [
            (f"newsletter ceiling, {c['subscribers']:,} subs, sender 1000/s (msg/s)",
             f"{c['messages_per_s']:.0f}", "≥ 1000"),
            (f"newsletter, 30/s server, {p['subscribers']:,} subs, default {p['sender_rate']:g}/s",
             f"{p['messages_per_s']:.1f}/s = {p.get('share_of_sender_rate', 0):.2f} of it, "
             f"{p['share_of_server_limit']:.2f} of 30; 429s {p['too_many_requests']}",
             "≥ 0.95; 0"),
        ]  # fmt: skip
        if "unlimited" in d:
            rows.append(
                ("  engine alone, sender 20,000/s (msg/s)",
                 f"{d['unlimited']['messages_per_s']:.0f}", "")
            )  # fmt: skip
        if p95:
            rows.append(
                ("  same with sender at 28.5/s",
                 f"{p95['messages_per_s']:.1f}/s = {p95['share_of_server_limit']:.2f} of 30; "
                 f"429s {p95['too_many_requests']}", "")
            )  # fmt: skip
        rows.append(
            ("  engine peak RSS 1k → 10k subs (MB)",
             f"{d['memory_small']['engine_peak_rss_mb']:.0f} → {c['engine_peak_rss_mb']:.0f}",
             "flat")
        )  # fmt: skip
    s = results.get("startup", {})
    if "median_to_first_getupdates_s" in s:
        rows += [
            ("start-up to first getUpdates (s, median)",
             f"{s['median_to_first_getupdates_s']:.2f}", ""),
            ("  python -c 'import aiogram' (s); ratio",
             f"{s['import_aiogram_s']:.2f}; {s['ratio_to_import_aiogram']:.2f}", "≤ 1.1"),
            ("  idle RSS after the first answer (MB)", f"{s['median_idle_rss_mb']:.0f}", ""),
        ]  # fmt: skip
    if "cpu_ratio_to_import_aiogram" in s:
        rows.append(
            ("  CPU s to first getUpdates / import aiogram; ratio",
             f"{s['median_cpu_to_first_getupdates_s']:.2f} / "
             f"{s['median_import_aiogram_cpu_s']:.2f}; {s['cpu_ratio_to_import_aiogram']:.2f}",
             "≤ 1.1")
        )  # fmt: skip
    for name, result in results.items():
        if "error" in result:
            rows.append((name, result["error"], ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", help="updates, report, delivery, startup")
    args = parser.parse_args()
    quick = args.quick
    plan = {
        # Ours on SQLite and on PostgreSQL in the same rounds (a throwaway server).
        "updates": ["--database", "both", *(["--updates", "2000", "--users", "100"] * quick)],
        "report": ["--sizes", "1000,10000"] if quick else [],
        "delivery": ["--quick"] if quick else [],
        "startup": ["--runs", "1"] if quick else [],
    }
    results = {
        name: _run(name, *extra)
        for name, extra in plan.items()
        if not args.only or name in args.only
    }
    summary = OUT / "summary.json"
    if args.only and summary.exists():  # a partial rerun keeps the other figures
        results = {**json.loads(summary.read_text(encoding="utf-8"))["results"], **results}
    context = machine()
    width = max(len(r[0]) for r in _rows(results)) if results else 40
    print(
        f"\n{context['cpu']}, {context['cores']} cores, Python {context['python']}, "
        f"{context['date']}, load average {context['load_average_1m']}"
    )
    print(f"{'figure':<{width}}  {'measured':<28}  target")
    for label, value, target in _rows(results):
        print(f"{label:<{width}}  {value:<28}  {target}")
    OUT.mkdir(parents=True, exist_ok=True)
    summary.write_text(
        json.dumps({"machine": context, "results": results}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"\nJSON: {summary} and the other files in {OUT}/")


if __name__ == "__main__":
    main()
