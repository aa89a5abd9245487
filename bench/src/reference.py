"""Reference timings for bench/src/run.ts: scikit-learn roc_curve + auc on the same scores, and
insightface's LFW protocol (verbatim loops, and a vectorised numpy version)."""
import json
import sys
import time

import numpy as np
from sklearn.metrics import auc, roc_curve
from sklearn.model_selection import KFold

what = sys.argv[1]
if what == 'verification':
    scores = np.load(sys.argv[2])
    labels = np.load(sys.argv[3])
    t = time.perf_counter()
    fpr, tpr, _ = roc_curve(labels, scores)
    a = auc(fpr, tpr)
    tars = [float(np.max(tpr[fpr <= f])) for f in (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)]
    print(json.dumps({'seconds': time.perf_counter() - t, 'auc': float(a), 'tar': tars}))
elif what == 'lfw':
    e1 = np.load(sys.argv[2])
    e2 = np.load(sys.argv[3])
    issame = np.load(sys.argv[4]).astype(bool)
    thresholds = np.arange(0, 4, 0.01)

    def insightface():
        dist = np.sum(np.square(e1 - e2), 1)
        acc = []
        for train, test in KFold(n_splits=10, shuffle=False).split(np.arange(len(issame))):
            acc_train = [np.mean(np.less(dist[train], t) == issame[train]) for t in thresholds]
            best = thresholds[int(np.argmax(acc_train))]
            acc.append(np.mean(np.less(dist[test], best) == issame[test]))
        return float(np.mean(acc))

    def vectorised():
        dist = np.sum(np.square(e1 - e2), 1)
        acc = []
        for train, test in KFold(n_splits=10, shuffle=False).split(np.arange(len(issame))):
            pred = dist[train][None, :] < thresholds[:, None]
            best = thresholds[int(np.argmax(np.mean(pred == issame[train][None, :], 1)))]
            acc.append(np.mean(np.less(dist[test], best) == issame[test]))
        return float(np.mean(acc))

    out = {}
    for name, fn in (('insightface', insightface), ('vectorised', vectorised)):
        fn()
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            value = fn()
            runs.append(time.perf_counter() - t)
        out[name] = {'seconds': sorted(runs)[2], 'accuracy': value}
    print(json.dumps(out))
