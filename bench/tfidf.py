"""Plain TF-IDF nearest neighbours, standard library only (for
bench/similar_quality.py).

The weighting is scikit-learn's TfidfVectorizer with its defaults, the usual
"plain TF-IDF" baseline: tokens are runs of 2 or more word characters,
lower-cased; tf is the raw count; idf = ln((1 + N) / (1 + df)) + 1; each
vector is scaled to unit length, so the dot product is the cosine. Search is
exact: every document's terms walk the inverted index."""
import math
import re
from collections import Counter

TOKEN = re.compile(r"(?u)\b\w\w+\b")


def vectors(texts):
    """Unit TF-IDF vectors, one {term id: weight} list of pairs per text,
    and the inverted index {term id: [(doc, weight)...]}."""
    ids, counts = {}, []
    for text in texts:
        c = Counter()
        for tok in TOKEN.findall(text.lower()):
            c[ids.setdefault(tok, len(ids))] += 1
        counts.append(c)
    n = len(texts)
    df = Counter()
    for c in counts:
        df.update(c.keys())
    idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
    vecs, index = [], {}
    for doc, c in enumerate(counts):
        v = [(t, tf * idf[t]) for t, tf in c.items()]
        norm = math.sqrt(sum(w * w for _, w in v)) or 1.0
        v = [(t, w / norm) for t, w in v]
        vecs.append(v)
        for t, w in v:
            index.setdefault(t, ([], []))
            index[t][0].append(doc)
            index[t][1].append(w)
    return vecs, index


def neighbours(texts, k=10):
    """For each text, the indexes of its k most similar others (cosine of
    TF-IDF vectors; ties broken by the lower index), best first."""
    vecs, index = vectors(texts)
    n = len(texts)
    out = []
    for q, v in enumerate(vecs):
        acc = {}
        get = acc.get
        for t, wq in v:
            docs, ws = index[t]
            for d, w in zip(docs, ws):
                acc[d] = get(d, 0.0) + wq * w
        acc.pop(q, None)
        best = sorted(acc.items(), key=lambda x: (-x[1], x[0]))[:k]
        # a text sharing no term with k others: fill with the lowest indexes
        # of score 0 (as a dense argsort would), so every list has k entries
        if len(best) < k:
            have = {d for d, _ in best} | {q}
            best += [(d, 0.0) for d in range(n) if d not in have][:k - len(best)]
        out.append([d for d, _ in best])
    return out
