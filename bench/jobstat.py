"""Reading the background job queue from TENANT/status (for
bench/similar_quality.py and bench/summarize.py).

TENANT/status has the line
  jobs: Q queued, R running, D done (S summaries), F failed[; X jobs/s, about Y s left]
"""
import os
import re
import sys
import time
from collections import namedtuple

STATUS_RE = re.compile(r"^jobs: (\d+) queued, (\d+) running, (\d+) done \((\d+) summaries\), "
                       r"(\d+) failed", re.M)
Jobs = namedtuple("Jobs", "queued running done summaries failed")


def read(tenant):
    """(Jobs, the status text). Raises OSError when the mount is gone."""
    with open(os.path.join(tenant, "status")) as f:
        text = f.read()
    m = STATUS_RE.search(text)
    if not m:
        sys.exit(f"error: no 'jobs:' line in {tenant}/status:\n{text}")
    return Jobs(*(int(x) for x in m.groups())), text


def jobs_text(text):
    return next(l for l in text.splitlines() if l.startswith("jobs:"))


Idle = namedtuple("Idle", "at summaries_at peak jobs text")


def wait_idle(tenant, t0, timeout, n_summaries, log, every=10.0, poll=0.25):
    """Polls status every `poll` s until 0 queued and 0 running. Returns Idle:
    seconds since t0 (perf_counter) at idle, when the summaries counter first
    reached n_summaries (None if never), the peak queue depth, the last Jobs
    and status text. Prints the jobs line every `every` s. Exits when the
    mount goes (the daemon died: see log) or after timeout s."""
    peak, summaries_at, printed = 0, None, 0.0
    while True:
        try:
            j, text = read(tenant)
        except OSError as e:
            sys.exit(f"error: reading {tenant}/status failed ({e}): the daemon died? "
                     f"see {log} and dmesg")
        now = time.perf_counter() - t0
        peak = max(peak, j.queued)
        if summaries_at is None and j.summaries >= n_summaries:
            summaries_at = now
        if now - printed >= every:
            print(f"  {now:7.1f} s  {jobs_text(text)}", flush=True)
            printed = now
        if j.queued == 0 and j.running == 0:
            return Idle(now, summaries_at, peak, j, text)
        if now > timeout:
            sys.exit(f"error: jobs not idle after {timeout:.0f} s:\n{text}")
        time.sleep(poll)


def daemon_mem(pid):
    """(VmRSS, VmHWM) of pid in MiB."""
    mem = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                mem[line.split(":")[0]] = int(line.split()[1]) / 1024
    return mem.get("VmRSS", 0), mem.get("VmHWM", 0)


def has_workers_option(deskfs):
    import subprocess
    out = subprocess.run([deskfs, "--help"], capture_output=True, text=True)
    return "--workers" in out.stdout + out.stderr
