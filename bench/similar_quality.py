#!/usr/bin/env python3
"""bench/similar_quality.py - quality of tickets/NAME/similar.json on the real
Endava help-desk export, against a plain TF-IDF baseline.

Copies ../shared/data/endava-helpdesk/all_tickets.csv (5,431 tickets; columns
title, body, ticket_type, category, sub_category1, ...) into the inbox of a
fresh tenant of a fresh mount, polls TENANT/status until the background jobs
are idle (0 queued, 0 running), then reads every ticket's similar.json and
scores precision@10 of the same `category` and of the same `sub_category1`:
for a query ticket, the share of its 10 similar tickets that carry its label,
averaged over tickets. A list shorter than 10 counts its missing entries as
misses (divides by 10); the mean over the returned entries only is printed
too when any list is short. Tickets whose similar.json is not "done" are
counted and left out.

The CSV has no id column, so deskfs names each ticket by its 1-based record
number (docs/formats/csv.md): ticket NAME is data record NAME. The script
checks that against every ticket.json (source_id and the two labels in
custom_fields) before scoring.

The baseline (bench/tfidf.py, standard library): cosine of TF-IDF vectors of
title + " " + body, scikit-learn's default weighting, exact top 10 excluding
the ticket itself.

Usage:
  bench/similar_quality.py [--smoke] [--csv FILE] [--timeout S]
    --smoke     the first 300 records only (checks that the bench runs)
  DESKFS_BIN=/path/to/deskfs bench/similar_quality.py   use that binary
    instead of building build-bench/ (e.g. a patched tree)
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "bench"))
import jobstat  # noqa: E402
import tfidf  # noqa: E402

K = 10
LABELS = ("category", "sub_category1")


def deskfs_binary():
    if os.environ.get("DESKFS_BIN"):
        return os.environ["DESKFS_BIN"]
    build = os.path.join(TOP, "build-bench")
    subprocess.run(["cmake", "-S", TOP, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, f"-j{os.cpu_count()}", "--target", "deskfs"],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build, "deskfs")


def precision(lists, labels, label):
    """(P@10 dividing by 10, P over the returned entries) averaged over the
    query tickets in lists {query: [similar...]}."""
    p10 = pret = 0.0
    for qname, sim in lists.items():
        want = labels[qname][label]
        hits = sum(labels[s][label] == want for s in sim[:K])
        p10 += hits / K
        pret += hits / len(sim[:K]) if sim else 0.0
    n = len(lists) or 1
    return p10 / n, pret / n


def chance(labels, label):
    """Expected precision of a random other ticket: mean over tickets of the
    share of the others with its label."""
    counts = {}
    for v in labels.values():
        counts[v[label]] = counts.get(v[label], 0) + 1
    n = len(labels)
    return sum((counts[v[label]] - 1) / (n - 1) for v in labels.values()) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--csv", default=os.path.join(TOP, "..", "shared", "data", "endava-helpdesk",
                                                  "all_tickets.csv"))
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--workers", type=int, help="mount --workers N (default: deskfs's)")
    args = ap.parse_args()
    if not os.path.isfile(args.csv):
        print(f"bench/similar_quality: no {args.csv} (skipped)")
        return 0
    with open(args.csv, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, r)) for r in reader if any(r)]
    if args.smoke:
        rows = rows[:300]
    # ticket NAME is data record NAME (1-based): no id column
    labels = {str(i + 1): {k: r[k] for k in LABELS} for i, r in enumerate(rows)}

    deskfs = deskfs_binary()
    work = tempfile.mkdtemp(prefix="deskfs-simq.")
    mnt, db = os.path.join(work, "mnt"), os.path.join(work, "store.db")
    os.mkdir(mnt)
    src = args.csv
    if args.smoke:
        src = os.path.join(work, "all_tickets.csv")
        with open(src, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(header)
            w.writerows([r[h] for h in header] for r in rows)
    mounted = False
    try:
        has_workers = jobstat.has_workers_option(deskfs)
        if args.workers and not has_workers:
            sys.exit("error: this deskfs has no --workers option")
        subprocess.run([deskfs, "mount", "--db", db, mnt]
                       + (["--workers", str(args.workers)] if args.workers else []), check=True)
        mounted = True
        with open(db + ".lock") as f:
            pid = int(f.readline())
        tenant = os.path.join(mnt, "endava")
        os.mkdir(tenant)
        print(f"machine: {os.cpu_count()} cores; deskfs: {deskfs}; job workers: "
              + (str(args.workers) if args.workers else "the default (2)")
              + ("" if has_workers else " (this deskfs has no --workers option)"))
        print(f"data: {args.csv}: {len(rows)} records{' (smoke: first 300)' if args.smoke else ''}")
        t0 = time.perf_counter()
        shutil.copyfile(src, os.path.join(tenant, "inbox", "all_tickets.csv"))
        t_cp = time.perf_counter() - t0
        c, _ = jobstat.read(tenant)
        print(f"cp into inbox/: {t_cp:.2f} s; at its return: {c.queued} queued, "
              f"{c.running} running, {c.done} done")
        idle = jobstat.wait_idle(tenant, t0, args.timeout, len(rows), db + ".log")
        t_idle, t_summ, peak, text = idle.at, idle.summaries_at, idle.peak, idle.text
        done, summ, failed = idle.jobs.done, idle.jobs.summaries, idle.jobs.failed
        print(f"jobs idle {t_idle:.1f} s after the cp began (every summary done at "
              f"{t_summ if t_summ is None else round(t_summ, 1)} s): {done} jobs done "
              f"({summ} summaries, {done - summ} similar), {failed} failed, peak queue {peak}; "
              f"{done / t_idle:.0f} jobs/s overall")
        if failed:
            print("failed jobs:\n" + text.split("failed jobs", 1)[-1])
        rss, hwm = jobstat.daemon_mem(pid)
        print(f"daemon RSS {rss:.0f} MiB, peak {hwm:.0f} MiB")

        names = os.listdir(os.path.join(tenant, "tickets"))
        if sorted(names, key=int) != sorted(labels, key=int):
            sys.exit(f"error: {len(names)} tickets, want names 1..{len(labels)}")
        # check the name -> record mapping on every ticket
        bad = 0
        for name in names:
            with open(os.path.join(tenant, "tickets", name, "ticket.json")) as f:
                tj = json.load(f)
            cf = tj.get("custom_fields") or {}
            if tj.get("source_id") != name or any(cf.get(k) != labels[name][k] for k in LABELS):
                bad += 1
        if bad:
            sys.exit(f"error: {bad} tickets whose ticket.json does not match their CSV record")
        print(f"mapping: ticket NAME = CSV data record NAME, checked on all {len(names)} "
              f"ticket.json (source_id and labels)")

        t1 = time.perf_counter()
        lists, states, short, empty, selfref = {}, {}, 0, 0, 0
        for name in names:
            with open(os.path.join(tenant, "tickets", name, "similar.json")) as f:
                sj = json.load(f)
            st = sj.get("state", "")
            key = st.split(" ")[0].rstrip(":")
            states[key] = states.get(key, 0) + 1
            if not st.startswith("done"):
                continue
            sim = [e["ticket"] for e in sj.get("similar", [])]
            selfref += name in sim
            sim = [s for s in sim if s != name]
            short += len(sim) < K
            empty += not sim
            lists[name] = sim
        t_read = time.perf_counter() - t1
        print(f"read {len(names)} similar.json in {t_read:.2f} s; states: "
              + ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
              + f"; lists shorter than {K}: {short} (empty: {empty}); lists naming the "
              f"ticket itself: {selfref}")
    finally:
        if mounted:
            subprocess.run([deskfs, "umount", mnt])
        shutil.rmtree(work, ignore_errors=True)

    t2 = time.perf_counter()
    order = sorted(labels, key=int)
    nb = tfidf.neighbours([r["title"] + " " + r["body"] for r in rows], K)
    base = {order[i]: [order[d] for d in nb[i]] for i in range(len(order))}
    t_tfidf = time.perf_counter() - t2

    res = {"deskfs": [precision(lists, labels, l) for l in LABELS],
           "tfidf": [precision(base, labels, l) for l in LABELS]}
    sub = {q: base[q] for q in lists}  # the baseline on the same tickets
    overlap = sum(len(set(lists[q][:K]) & set(base[q])) for q in lists) / (K * len(lists) or 1)

    print()
    print(f"| method | P@10 category | P@10 sub_category1 | tickets evaluated | time |")
    print(f"|---|---|---|---|---|")
    print(f"| deskfs similar.json (summary jobs + similar jobs, hybrid retrieval) | "
          f"{res['deskfs'][0][0]:.4f} | {res['deskfs'][1][0]:.4f} | {len(lists)} of {len(rows)} | "
          f"jobs {t_idle:.1f} s from the cp to idle (cp {t_cp:.2f} s) |")
    if short:
        print(f"| deskfs, over returned entries only | {res['deskfs'][0][1]:.4f} | "
              f"{res['deskfs'][1][1]:.4f} | {len(lists)} ({short} short lists) | |")
    if len(lists) != len(rows):
        print(f"| TF-IDF on the same {len(lists)} tickets | "
              f"{precision(sub, labels, LABELS[0])[0]:.4f} | "
              f"{precision(sub, labels, LABELS[1])[0]:.4f} | {len(lists)} | |")
    print(f"| TF-IDF baseline (title + body, cosine, exact) | {res['tfidf'][0][0]:.4f} | "
          f"{res['tfidf'][1][0]:.4f} | {len(rows)} | {t_tfidf:.1f} s in Python |")
    print(f"| chance (a random other ticket) | {chance(labels, LABELS[0]):.4f} | "
          f"{chance(labels, LABELS[1]):.4f} | {len(rows)} | |")
    print()
    print(f"overlap of deskfs's and TF-IDF's top {K}: {overlap:.3f} "
          f"(share of deskfs's entries also in TF-IDF's list)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
