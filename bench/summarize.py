"""Throughput of the background job queue (driven by bench/summarize).

  summarize.py offline DESKFS GEN N WORKERS
      (a) N generated tickets (gen_freshdesk N DIR 1 42), joined into JSON
      arrays of 1,000, copied into the inbox of a tenant with the default
      config (offline provider): the summaries are extractive.
  summarize.py provider DESKFS GEN N WORKERS DELAY
      (b) the same with N tickets, summary_min_words 0 and one OpenAI-style
      provider, tests/fake_provider.py, answering every call after DELAY
      seconds with a valid summary (a JSON object with exactly problem,
      cause, solution, result). The fake sets TCP_NODELAY (without it each
      call on a reused connection waited about 40 ms for a delayed ACK).

WORKERS 0 mounts with deskfs's default (and without --workers, which an
older deskfs lacks). Each run mounts a fresh store in a temporary
directory. Ingest (the cp of the arrays, each ingested at its close) is timed
on its own; the jobs are timed from the end of ingest until TENANT/status
shows 0 queued, 0 running, and rates over that window count only the jobs
done in it (jobs start while ingest still runs: those done by the end of
ingest are printed). Every job line is from TENANT/status:
  jobs: Q queued, R running, D done (S summaries), F failed
D counts summary jobs and similar jobs (a ticket's own, and those of its
three best matches made again so their lists show it)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jobstat  # noqa: E402
import query  # noqa: E402  (arrays)

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PER = 1000  # tickets a JSON array
REPLY = {"problem": "The customer cannot log in to the portal after the password reset.",
         "cause": "The account was locked by too many failed attempts.",
         "solution": "The agent unlocked the account and sent a new reset link.",
         "result": "Solved: the customer logged in."}


def post(port, path, obj):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(obj).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


class Fake:
    """tests/fake_provider.py on an ephemeral port, every call DELAY s slow
    """

    def __init__(self, work, delay, stock):
        self.portfile, self.log = os.path.join(work, "fake.port"), os.path.join(work, "fake.log")
        prog = os.path.join(TOP, "tests", "fake_provider.py")
        self.proc = subprocess.Popen([sys.executable, prog,
                                      "--port-file", self.portfile, "--log", self.log])
        for _ in range(200):
            if os.path.exists(self.portfile):
                break
            if self.proc.poll() is not None:
                sys.exit("error: the fake provider exited")
            time.sleep(0.05)
        else:
            sys.exit("error: the fake provider wrote no port file in 10 s")
        self.port = int(open(self.portfile).read())
        post(self.port, "/_control", {"default": f"slow:{delay}", "reply": json.dumps(REPLY)})

    def calls(self):
        """{path: count} of the provider requests logged so far, and their mean ms."""
        paths, ms = {}, []
        with open(self.log) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 5 and parts[0] == "POST" and parts[1] != "/_control":
                    paths[parts[1]] = paths.get(parts[1], 0) + 1
                    ms.append(int(parts[-1].split("=")[1]))
        return paths, (sum(ms) / len(ms) if ms else 0)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def methods(tenant, names):
    """{summary method: count} from every tickets/NAME/summary.md, and the
    states that are not done."""
    out, states = {}, {}
    for name in names:
        with open(os.path.join(tenant, "tickets", name, "summary.md")) as f:
            text = f.read()
        state = method = "?"
        for line in text.splitlines():
            if line.startswith("state: "):
                state = line[7:].split(":")[0]
            elif line.startswith("method: "):
                method = line[8:]
        if state != "done":
            states[state] = states.get(state, 0) + 1
        out[method] = out.get(method, 0) + 1
    return out, states


def run(kind, deskfs, gen, n, workers, delay=0.0):
    work = tempfile.mkdtemp(prefix="deskfs-summarize.")
    mnt, db = os.path.join(work, "mnt"), os.path.join(work, "store.db")
    src, arrays = os.path.join(work, "src"), os.path.join(work, "arrays")
    fake, mounted = None, False
    try:
        subprocess.run([gen, str(n), src, "1", "42"], check=True, stdout=subprocess.DEVNULL)
        query.arrays(src, arrays, PER)
        shutil.rmtree(src)
        files = sorted(os.listdir(arrays))
        mb = sum(os.path.getsize(os.path.join(arrays, f)) for f in files) / 1e6
        os.mkdir(mnt)
        stock = True
        if kind == "provider":
            fake = Fake(work, delay, stock)
        opt = ["--workers", str(workers)] if workers else []
        subprocess.run([deskfs, "mount", "--db", db] + opt + [mnt], check=True)
        mounted = True
        pid = int(open(db + ".lock").readline())
        tenant = os.path.join(mnt, "bench")
        os.mkdir(tenant)
        if kind == "provider":
            cfg = {"providers": [{"name": "fake", "api": "openai",
                                  "endpoint": f"http://127.0.0.1:{fake.port}/v1", "model": "m",
                                  "timeout_s": 30, "retries": 0}],
                   "summary_min_words": 0}
            with open(os.path.join(tenant, "config"), "w") as f:
                json.dump(cfg, f)
        wdesc = f"{workers} job workers" if workers else "default job workers (2)"
        what = ("offline summarizer (extractive)" if kind == "offline" else
                f"fake provider (tests/fake_provider.py), "
                f"{delay * 1000:.0f} ms a call, summary_min_words 0")
        print(f"== ({'a' if kind == 'offline' else 'b'}) {what}: N={n}, {wdesc}; "
              f"{mb:.0f} MB of JSON in {len(files)} arrays", flush=True)

        t0 = time.perf_counter()
        for f in files:
            shutil.copyfile(os.path.join(arrays, f), os.path.join(tenant, "inbox", f))
        t_ingest = time.perf_counter() - t0
        j0, _ = jobstat.read(tenant)
        got = len(os.listdir(os.path.join(tenant, "tickets")))
        if got != n:
            sys.exit(f"error: {got} tickets after ingest, want {n}")
        print(f"ingest: {n} tickets in {t_ingest:.2f} s ({n / t_ingest:.0f} tickets/s); at its "
              f"end: {j0.queued} queued, {j0.running} running, {j0.done} done "
              f"({j0.summaries} summaries)", flush=True)
        t1 = time.perf_counter()
        idle = jobstat.wait_idle(tenant, t1, 3600, n, db + ".log")
        j = idle.jobs
        t_jobs = idle.at
        rss, hwm = jobstat.daemon_mem(pid)
        names = os.listdir(os.path.join(tenant, "tickets"))
        meth, states = methods(tenant, names)

        d_jobs, d_summ = j.done - j0.done, j.summaries - j0.summaries
        print(f"jobs idle {t_jobs:.1f} s after the end of ingest "
              f"({t_ingest + t_jobs:.1f} s after its start)")
        print(f"  status at idle: {jobstat.jobs_text(idle.text)}")
        print(f"  after ingest: {d_jobs} jobs in {t_jobs:.1f} s = {d_jobs / t_jobs:.1f} jobs/s; "
              f"{d_summ} summaries = {d_summ / t_jobs:.1f} summaries/s")
        if idle.summaries_at is not None:
            print(f"  every summary done {idle.summaries_at:.1f} s after ingest: "
                  f"{d_summ / max(idle.summaries_at, 1e-9):.1f} summaries/s while summaries "
                  f"were left (similar jobs run beside them)")
        tot = t_ingest + t_jobs
        print(f"  from the start of ingest: {j.done} jobs, {j.summaries} summaries in {tot:.1f} s "
              f"= {j.done / tot:.1f} jobs/s, {j.summaries / tot:.1f} summaries/s")
        print(f"  jobs per ticket: {j.done / n:.2f} ({j.summaries} summary, "
              f"{j.done - j.summaries} similar); peak queue {idle.peak}; failed {j.failed}")
        print(f"  summary.md methods: " + "; ".join(f"{v} {k}" for k, v in sorted(meth.items())))
        if states:
            print(f"  summary.md not done: {states}")
        if j.failed:
            print("  " + idle.text.split("failed jobs", 1)[-1].strip().replace("\n", "\n  "))
        if fake:
            paths, ms = fake.calls()
            calls = sum(paths.values())
            print(f"  provider calls: {calls} ({', '.join(f'{p} {c}' for p, c in paths.items())}), "
                  f"{ms:.0f} ms each on average at the fake")
            w = workers or 2
            rate = d_summ / max(idle.summaries_at or t_jobs, 1e-9)
            if delay > 0:
                print(f"  theoretical: {w} workers / {delay} s = {w / delay:.0f} summaries/s; "
                      f"measured {rate:.1f} while summaries were left ({rate * delay / w:.0%} "
                      f"of it: {1000 * (w / rate - delay):.0f} ms a call beyond the {delay} s), "
                      f"{j.summaries / tot:.1f} from the start of ingest to idle")
        print(f"  daemon RSS {rss:.0f} MiB (peak {hwm:.0f} MiB); store "
              f"{sum(os.path.getsize(os.path.join(work, f)) for f in os.listdir(work) if f.startswith('store.db')) / 1e6:.0f} MB",
              flush=True)
    finally:
        if mounted:
            subprocess.run([deskfs, "umount", mnt])
        if fake:
            fake.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "offline":
        run("offline", a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) == 6 and a[0] == "provider":
        run("provider", a[1], a[2], int(a[3]), int(a[4]), float(a[5]))
    else:
        sys.exit(__doc__)
