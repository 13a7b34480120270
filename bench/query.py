"""Query latency through a deskfs mount (driven by bench/query).
  query.py arrays SRCDIR OUTDIR PER   joins SRCDIR's ticket-ID.json files (one
                                      Freshdesk ticket each) into JSON arrays of
                                      PER tickets, OUTDIR/tickets-NNNN.json
  query.py search TENANT NQUERIES     the query runs; prints labelled lines"""
import json, os, re, random, sys, threading, time

SEED = 7
K = 10
MARK = "--- deskfs answer ---"


def arrays(src, out, per):
    names = sorted((f for f in os.listdir(src) if f.endswith(".json")),
                   key=lambda f: int(re.sub(r"\D", "", f) or 0))
    os.makedirs(out, exist_ok=True)
    for i in range(0, len(names), per):
        with open(os.path.join(out, f"tickets-{i // per:04d}.json"), "wb") as o:
            o.write(b"[\n")
            for j, name in enumerate(names[i:i + per]):
                if j:
                    o.write(b",\n")
                with open(os.path.join(src, name), "rb") as f:
                    o.write(f.read().rstrip())
            o.write(b"\n]\n")


def vocabulary():
    """gen_freshdesk's words, read from its source so the two stay in step."""
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vocab.h")).read()
    body = re.search(r"words\[\]\s*=\s*\{(.*?)\};", src, re.S).group(1)
    return re.findall(r'"([^"]+)"', body)


def question_set(n):
    rng, words, seen = random.Random(SEED), vocabulary(), []
    while len(seen) < n:
        q = " ".join(rng.sample(words, rng.randint(3, 8)))
        if q not in seen:
            seen.append(q)
    return seen


def ask(qdir, name, question, retriever=None):
    """Writes the query file, closes it, reads the answer to its end; returns
    (ms, answer text). An asynchronous answerer may make the open or the
    read wait: both are inside the timed span."""
    path = os.path.join(qdir, name)
    opts = f"mode: search\nk: {K}\n" + (f"retriever: {retriever}\n" if retriever else "")
    data = (opts + "\n" + question + "\n").encode()
    t = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    fd = os.open(path, os.O_RDONLY)
    parts = []
    try:
        while True:
            b = os.read(fd, 1 << 16)
            if not b:
                break
            parts.append(b)
    finally:
        os.close(fd)
    ms = (time.perf_counter() - t) * 1000
    return ms, b"".join(parts).decode("utf-8", "replace")


def check(text):
    """None when the answer looks finished, else what is wrong."""
    if MARK not in text:
        return f"no '{MARK}' line"
    m = re.search(r"^Sources \((\d+)", text.split(MARK, 1)[1], re.M)
    if not m:
        return "no 'Sources (' line"
    if int(m.group(1)) < 1:
        return "no sources"
    return None


def pct(sorted_ms, p):
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))]


def run(qdir, tag, questions, readers, retriever=None):
    """Splits questions over `readers` threads (reader r takes every
    readers-th one from r), each with its own query names. Returns (wall s,
    sorted latencies in ms, names)."""
    lat, names, bad = [], [], []
    lock = threading.Lock()
    start = threading.Barrier(readers + 1)

    def reader(r):
        mine = [(f"{tag}-r{r}-{i}", q) for i, q in enumerate(questions[r::readers])]
        start.wait()
        for name, q in mine:
            ms, text = ask(qdir, name, q, retriever)
            err = check(text)
            with lock:
                lat.append(ms)
                names.append(name)
                if err:
                    bad.append((name, err, text))

    threads = [threading.Thread(target=reader, args=(r,)) for r in range(readers)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if bad:
        name, err, text = bad[0]
        sys.stderr.write(f"error: {len(bad)} of {len(lat)} answers of run {tag} are not "
                         f"finished answers; {name}: {err}:\n{text[:600]}\n")
        sys.exit(1)
    return wall, sorted(lat), names


def search(tenant, n):
    qdir = os.path.join(tenant, "queries")
    questions = question_set(n)
    words = [len(q.split()) for q in questions]
    print(f"queries: {len(questions)} distinct questions of {min(words)}-{max(words)} words "
          f"from gen_freshdesk's vocabulary (seed {SEED}), mode: search, k: {K}")
    ms, text = ask(qdir, "cold", questions[0])
    err = check(text)
    if err:
        sys.exit(f"error: first query: {err}:\n{text[:600]}")
    print(f"cold first query: {ms:.1f} ms (builds the tenant's term and vector indexes)")
    warm = questions[:max(1, len(questions) // 4)]
    wall, lat, _ = run(qdir, "warm", warm, 1)
    print(f"warm-up: {len(warm)} queries, p50 {pct(lat, 0.5):.1f} ms")
    for readers in (1, 4, 8):
        wall, lat, _ = run(qdir, f"c{readers}", questions, readers)
        print(f"search, {readers} reader{'s' if readers > 1 else ''}: {len(lat)} queries in "
              f"{wall:.2f} s, {len(lat) / wall:.1f} queries/s, p50 {pct(lat, 0.5):.1f} ms, "
              f"p99 {pct(lat, 0.99):.1f} ms")
    for mode in ("bm25", "vector", "hybrid"):
        wall, lat, names = run(qdir, mode, questions, 1, mode)
        tm = {}
        for name in names:  # answers are stored: reading NAME.json runs nothing
            res = json.load(open(os.path.join(qdir, name + ".json")))
            if res.get("error"):
                sys.exit(f"error: {name}.json: {res['error']}")
            for key, v in res["timings_ms"].items():
                tm.setdefault(key, []).append(v)
        inner = ", ".join(f"{key} {pct(sorted(tm[key]), 0.5):.2f}"
                          for key in ("bm25", "vector", "retrieval", "total"))
        print(f"retriever {mode}, 1 reader: write+read p50 {pct(lat, 0.5):.1f} ms, "
              f"p99 {pct(lat, 0.99):.1f} ms; in daemon p50 (ms): {inner}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "arrays":
        arrays(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "search":
        search(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
