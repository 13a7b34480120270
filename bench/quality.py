"""Retrieval quality through a deskfs mount (driven by bench/quality)."""
import json, math, os, sys, time

data, tenant, smoke = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
docs = [json.loads(l) for l in open(os.path.join(data, "docs.jsonl"))]
queries = {q["id"]: q["text"] for q in map(json.loads, open(os.path.join(data, "queries.jsonl")))}
qrels = {}
for line in open(os.path.join(data, "qrels.tsv")):
    qid, did, rel = line.split("\t")
    if int(rel) > 0:
        qrels.setdefault(qid, {})[did] = int(rel)
if smoke:
    keep = {d["id"] for d in docs[:300]}
    docs = docs[:300]
    qrels = {q: r for q, r in qrels.items() if set(r) & keep}
    qrels = dict(list(qrels.items())[:30])

t0 = time.time()
# QUALITY_REUSE=1: the tenant already holds the collection (tuning runs)
for d in ([] if os.environ.get("QUALITY_REUSE") else docs):
    with open(os.path.join(tenant, "kb", d["id"] + ".md"), "w") as f:
        f.write("# " + (d.get("title") or d["id"]).replace("\n", " ") + "\n\n" + d["text"] + "\n")
ingest = time.time() - t0
print(f"collection: {data}: {len(docs)} documents, {len(qrels)} judged queries")
print(f"ingest: {ingest:.1f} s ({len(docs) / ingest:.0f} documents/s)")

def ndcg10(ranked, rel):
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(rel.values(), reverse=True)[:10]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0

def recall100(ranked, rel):
    return len(set(ranked[:100]) & set(rel)) / len(rel)

def mrr10(ranked, rel):
    for i, d in enumerate(ranked[:10]):
        if d in rel:
            return 1.0 / (i + 1)
    return 0.0

qdir = os.path.join(tenant, "queries")
for mode in os.environ.get("QUALITY_MODES", "bm25 vector hybrid").split():
    sums = [0.0, 0.0, 0.0]
    lat = []
    for qid, rel in qrels.items():
        name = os.path.join(qdir, f"{mode}-{qid}")
        t = time.time()
        with open(name, "w") as f:
            f.write(f"mode: search\nk: 100\nretriever: {mode}\n\n{queries[qid]}\n")
        res = json.load(open(name + ".json"))
        lat.append((time.time() - t) * 1000)
        ranked = [s["path"][3:-3] for s in res["sources"] if s["path"].startswith("kb/")]
        sums[0] += ndcg10(ranked, rel)
        sums[1] += recall100(ranked, rel)
        sums[2] += mrr10(ranked, rel)
    n = len(qrels)
    lat.sort()
    print(f"{mode:7s} nDCG@10 {sums[0] / n:.4f}  Recall@100 {sums[1] / n:.4f}  "
          f"MRR@10 {sums[2] / n:.4f}  (write+read p50 {lat[len(lat) // 2]:.1f} ms, "
          f"p99 {lat[min(len(lat) - 1, int(len(lat) * 0.99))]:.1f} ms)")
