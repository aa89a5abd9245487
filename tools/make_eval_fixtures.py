#!/usr/bin/python3
"""Golden fixtures for @marginkit/eval, from scikit-learn, numpy and scipy in float64, and from
insightface's protocol code reproduced verbatim (verification.py calculate_roc / calculate_val,
eval_ijbc.py image2template_feature / verification, the IJB TAR@FAR loop).

Run with Debian's interpreter (python3-sklearn):  /usr/bin/python3 tools/make_eval_fixtures.py
Writes fixtures/eval.json and fixtures/npy/*.npy. CI does not run this; the files are committed.
"""
import json
import os

import numpy as np
from scipy import interpolate, optimize, stats
from sklearn.metrics import auc, det_curve, roc_curve
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize

ROOT = os.path.join(os.path.dirname(__file__), '..', 'fixtures')
rng = np.random.default_rng(20261128)
FARS = [1e-3, 1e-2, 0.05, 0.1, 0.2, 0.5]


def jl(a):
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=np.float64)]


def insightface_nearest(label, score, x_labels):
    # eval_ijbc.py: fpr, tpr, _ = roc_curve(label, score); fpr = np.flipud(fpr); tpr = np.flipud(tpr)
    fpr, tpr, _ = roc_curve(label, score)
    fpr = np.flipud(fpr)
    tpr = np.flipud(tpr)
    out = []
    for fpr_iter in x_labels:
        _, min_index = min(list(zip(abs(fpr - fpr_iter), range(len(fpr)))))
        out.append(float(tpr[min_index]))
    return out


def verification_case(name, scores, labels):
    fpr, tpr, thr = roc_curve(labels, scores)
    fpr_f, tpr_f, thr_f = roc_curve(labels, scores, drop_intermediate=False)
    f = interpolate.interp1d(fpr_f, tpr_f)
    eer_brentq = optimize.brentq(lambda x: 1.0 - x - f(x), 0.0, 1.0, xtol=1e-14)
    fd, fnd, td = det_curve(labels, scores)
    strict = [float(np.max(tpr_f[fpr_f <= t])) for t in FARS]
    interp = [float(np.interp(t, fpr_f, tpr_f)) for t in FARS]
    thresh = float(np.median(scores))
    pred = scores >= thresh
    acc = float(np.mean(pred == (labels == 1)))
    return {
        'name': name,
        'dtype': str(scores.dtype),
        'scores': jl(scores),
        'labels': [int(v) for v in labels],
        'roc': {'fpr': jl(fpr), 'tpr': jl(tpr), 'thresholds': jl(thr[1:])},
        'rocFull': {'fpr': jl(fpr_f), 'tpr': jl(tpr_f), 'thresholds': jl(thr_f[1:])},
        'auc': float(auc(fpr, tpr)),
        'eer': float(eer_brentq),
        'det': {'fpr': jl(fd), 'fnr': jl(fnd), 'thresholds': jl(td)},
        'fars': FARS,
        'tarStrict': strict,
        'tarNearest': insightface_nearest(labels, scores, FARS),
        'tarInterpolated': interp,
        'accuracy': {'threshold': thresh, 'accuracy': acc},
    }


def verification_cases():
    out = []
    n = 600
    labels = (rng.random(n) < 0.3).astype(np.int64)
    scores = rng.normal(0, 1, n) + 1.5 * labels
    out.append(verification_case('continuous', scores, labels))
    labels = (rng.random(400) < 0.5).astype(np.int64)
    scores = np.round(rng.normal(0, 1, 400) + labels, 1)  # tie-heavy
    out.append(verification_case('ties', scores, labels))
    labels = (rng.random(300) < 0.4).astype(np.int64)
    scores = (rng.normal(0, 1, 300) + 2 * labels).astype(np.float32)
    out.append(verification_case('float32', scores, labels))
    labels = np.array([1, 0] * 50)
    scores = np.round(rng.random(100) * 4) / 4  # only 5 distinct values
    out.append(verification_case('few-distinct', scores, labels))
    labels = np.array([1] * 20 + [0] * 200)
    scores = np.concatenate([rng.normal(2, 1, 20), rng.normal(0, 1, 200)])
    out.append(verification_case('imbalanced', scores, labels))
    return out


# ---- insightface verification.py, verbatim but for the documented interp rule ----
class LFold:
    def __init__(self, n_splits=2, shuffle=False):
        self.n_splits = n_splits
        if self.n_splits > 1:
            self.k_fold = KFold(n_splits=n_splits, shuffle=shuffle)

    def split(self, indices):
        if self.n_splits > 1:
            return self.k_fold.split(indices)
        return [(indices, indices)]


def calculate_accuracy(threshold, dist, actual_issame):
    predict_issame = np.less(dist, threshold)
    tp = np.sum(np.logical_and(predict_issame, actual_issame))
    fp = np.sum(np.logical_and(predict_issame, np.logical_not(actual_issame)))
    tn = np.sum(np.logical_and(np.logical_not(predict_issame), np.logical_not(actual_issame)))
    fn = np.sum(np.logical_and(np.logical_not(predict_issame), actual_issame))
    tpr = 0 if (tp + fn == 0) else float(tp) / float(tp + fn)
    fpr = 0 if (fp + tn == 0) else float(fp) / float(fp + tn)
    acc = float(tp + tn) / dist.size
    return tpr, fpr, acc


def calculate_roc(thresholds, embeddings1, embeddings2, actual_issame, nrof_folds=10):
    nrof_pairs = min(len(actual_issame), embeddings1.shape[0])
    nrof_thresholds = len(thresholds)
    k_fold = LFold(n_splits=nrof_folds, shuffle=False)
    tprs = np.zeros((nrof_folds, nrof_thresholds))
    fprs = np.zeros((nrof_folds, nrof_thresholds))
    accuracy = np.zeros((nrof_folds))
    best = []
    indices = np.arange(nrof_pairs)
    diff = np.subtract(embeddings1, embeddings2)
    dist = np.sum(np.square(diff), 1)
    for fold_idx, (train_set, test_set) in enumerate(k_fold.split(indices)):
        acc_train = np.zeros((nrof_thresholds))
        for threshold_idx, threshold in enumerate(thresholds):
            _, _, acc_train[threshold_idx] = calculate_accuracy(threshold, dist[train_set], actual_issame[train_set])
        best_threshold_index = np.argmax(acc_train)
        best.append(float(thresholds[best_threshold_index]))
        for threshold_idx, threshold in enumerate(thresholds):
            tprs[fold_idx, threshold_idx], fprs[fold_idx, threshold_idx], _ = calculate_accuracy(threshold, dist[test_set], actual_issame[test_set])
        _, _, accuracy[fold_idx] = calculate_accuracy(thresholds[best_threshold_index], dist[test_set], actual_issame[test_set])
    return np.mean(tprs, 0), np.mean(fprs, 0), accuracy, best


def calculate_val_far(threshold, dist, actual_issame):
    predict_issame = np.less(dist, threshold)
    true_accept = np.sum(np.logical_and(predict_issame, actual_issame))
    false_accept = np.sum(np.logical_and(predict_issame, np.logical_not(actual_issame)))
    n_same = np.sum(actual_issame)
    n_diff = np.sum(np.logical_not(actual_issame))
    return float(true_accept) / float(n_same), float(false_accept) / float(n_diff)


def slinear_with_ties(far_train, thresholds, far_target):
    # The documented rule for tied FAR values: stable sort (far_train is already non-decreasing),
    # searchsorted side='left', linear interpolation between the neighbours (old scipy's
    # interp1d linear path; current scipy raises "Expect x to not have duplicates").
    order = np.argsort(far_train, kind='stable')
    x = far_train[order]
    y = thresholds[order]
    hi = int(np.clip(np.searchsorted(x, far_target, side='left'), 1, len(x) - 1))
    lo = hi - 1
    if x[hi] == x[lo]:
        return float(y[hi])
    return float(y[lo] + (y[hi] - y[lo]) * (far_target - x[lo]) / (x[hi] - x[lo]))


def calculate_val(thresholds, embeddings1, embeddings2, actual_issame, far_target, nrof_folds=10):
    nrof_pairs = min(len(actual_issame), embeddings1.shape[0])
    nrof_thresholds = len(thresholds)
    k_fold = LFold(n_splits=nrof_folds, shuffle=False)
    val = np.zeros(nrof_folds)
    far = np.zeros(nrof_folds)
    diff = np.subtract(embeddings1, embeddings2)
    dist = np.sum(np.square(diff), 1)
    indices = np.arange(nrof_pairs)
    for fold_idx, (train_set, test_set) in enumerate(k_fold.split(indices)):
        far_train = np.zeros(nrof_thresholds)
        for threshold_idx, threshold in enumerate(thresholds):
            _, far_train[threshold_idx] = calculate_val_far(threshold, dist[train_set], actual_issame[train_set])
        if np.max(far_train) >= far_target:
            threshold = slinear_with_ties(far_train, thresholds, far_target)
        else:
            threshold = 0.0
        val[fold_idx], far[fold_idx] = calculate_val_far(threshold, dist[test_set], actual_issame[test_set])
    return np.mean(val), np.std(val), np.mean(far)


def lfw_case(name, n, d, noise, far_target=1e-3, flip=False):
    ids = rng.normal(0, 1, (n, d))
    same = np.array([i % 2 == 0 for i in range(n)])
    e1 = ids + noise * rng.normal(0, 1, (n, d))
    other = rng.normal(0, 1, (n, d))
    e2 = np.where(same[:, None], ids, other) + noise * rng.normal(0, 1, (n, d))
    e1 = e1.astype(np.float32).astype(np.float64)
    e2 = e2.astype(np.float32).astype(np.float64)
    case = {'name': name, 'dim': d, 'issame': [int(v) for v in same], 'farTarget': far_target}
    if flip:
        f1 = (e1 + 0.1 * rng.normal(0, 1, e1.shape)).astype(np.float32).astype(np.float64)
        f2 = (e2 + 0.1 * rng.normal(0, 1, e2.shape)).astype(np.float32).astype(np.float64)
        case['flipped1'] = jl(f1.flatten())
        case['flipped2'] = jl(f2.flatten())
        n1, n2 = normalize(e1 + f1), normalize(e2 + f2)
    else:
        n1, n2 = normalize(e1), normalize(e2)
    case['embeddings1'] = jl(e1.flatten())
    case['embeddings2'] = jl(e2.flatten())
    tpr, fpr, accuracy, best = calculate_roc(np.arange(0, 4, 0.01), n1, n2, same, nrof_folds=10)
    val, val_std, far = calculate_val(np.arange(0, 4, 0.001), n1, n2, same, far_target, nrof_folds=10)
    case.update({
        'accuracy': float(np.mean(accuracy)), 'accuracyStd': float(np.std(accuracy)), 'foldAccuracies': jl(accuracy),
        'foldThresholds': best, 'tpr': jl(tpr), 'fpr': jl(fpr), 'val': float(val), 'valStd': float(val_std), 'far': float(far),
    })
    return case


# ---- insightface eval_ijbc.py, verbatim ----
def image2template_feature(img_feats=None, templates=None, medias=None):
    unique_templates = np.unique(templates)
    template_feats = np.zeros((len(unique_templates), img_feats.shape[1]))
    for count_template, uqt in enumerate(unique_templates):
        (ind_t,) = np.where(templates == uqt)
        face_norm_feats = img_feats[ind_t]
        face_medias = medias[ind_t]
        unique_medias, unique_media_counts = np.unique(face_medias, return_counts=True)
        media_norm_feats = []
        for u, ct in zip(unique_medias, unique_media_counts):
            (ind_m,) = np.where(face_medias == u)
            if ct == 1:
                media_norm_feats += [face_norm_feats[ind_m]]
            else:
                media_norm_feats += [np.mean(face_norm_feats[ind_m], axis=0, keepdims=True)]
        media_norm_feats = np.array(media_norm_feats)
        template_feats[count_template] = np.sum(media_norm_feats, axis=0)
    template_norm_feats = normalize(template_feats)
    return template_norm_feats, unique_templates


def verification(template_norm_feats=None, unique_templates=None, p1=None, p2=None):
    template2id = np.zeros((max(unique_templates) + 1, 1), dtype=int)
    for count_template, uqt in enumerate(unique_templates):
        template2id[uqt] = count_template
    score = np.zeros((len(p1),))
    total_pairs = np.array(range(len(p1)))
    batchsize = 100000
    sublists = [total_pairs[i:i + batchsize] for i in range(0, len(p1), batchsize)]
    for c, s in enumerate(sublists):
        feat1 = template_norm_feats[template2id[p1[s]]]
        feat2 = template_norm_feats[template2id[p2[s]]]
        similarity_score = np.sum(feat1 * feat2, -1)
        score[s] = similarity_score.flatten()
    return score


def ijb_case():
    n_img, d, n_subj = 240, 12, 15
    subjects = rng.integers(0, n_subj, n_img)
    centres = rng.normal(0, 1, (n_subj, d))
    feats = (centres[subjects] + 0.8 * rng.normal(0, 1, (n_img, d))).astype(np.float32).astype(np.float64)
    templates = np.array([1000 + 3 * s + rng.integers(0, 3) for s in subjects])
    medias = rng.integers(0, 6, n_img) + 50 * templates
    img_input_feats = feats / np.sqrt(np.sum(feats ** 2, -1, keepdims=True))
    tfeats, utemplates = image2template_feature(img_input_feats, templates, medias)
    tsubject = {int(t): int(s) for t, s in zip(templates, subjects)}
    ut = [int(t) for t in utemplates]
    p1 = np.array([ut[rng.integers(0, len(ut))] for _ in range(800)])
    p2 = np.array([ut[rng.integers(0, len(ut))] for _ in range(800)])
    label = np.array([int(tsubject[a] == tsubject[b]) for a, b in zip(p1, p2)])
    score = verification(tfeats, utemplates, p1, p2)
    x_labels = [1e-3, 1e-2, 1e-1]
    return {
        'features': jl(feats.flatten()), 'dim': d, 'templates': [int(t) for t in templates], 'medias': [int(m) for m in medias],
        'templateIds': ut, 'templateFeatures': jl(tfeats.flatten()),
        'p1': [int(v) for v in p1], 'p2': [int(v) for v in p2], 'labels': [int(v) for v in label], 'scores': jl(score),
        'fars': x_labels, 'tarNearest': insightface_nearest(label, score, x_labels),
    }


def identification_case():
    g, p, d = 30, 120, 10
    gallery_subjects = np.arange(g) * 7 + 3
    gfeat = rng.normal(0, 1, (g, d))
    mated = rng.random(p) < 0.75
    psub = np.where(mated, gallery_subjects[rng.integers(0, g, p)], 10_000 + np.arange(p))
    pfeat = np.where(mated[:, None], gfeat[np.searchsorted(gallery_subjects, np.minimum(psub, gallery_subjects[-1]))], rng.normal(0, 1, (p, d)))
    pfeat = pfeat + 1.0 * rng.normal(0, 1, (p, d))
    gfeat = gfeat.astype(np.float32).astype(np.float64)
    pfeat = pfeat.astype(np.float32).astype(np.float64)
    s = normalize(pfeat) @ normalize(gfeat).T
    ranks = []
    for i in range(p):
        if not mated[i]:
            continue
        mate = int(np.where(gallery_subjects == psub[i])[0][0])
        ms = s[i, mate]
        ranks.append(1 + int(np.sum(s[i] > ms)) + int(np.sum((s[i] == ms) & (np.arange(g) < mate))))
    ranks = np.array(ranks)
    nonmated_max = np.sort(s[~mated].max(1))[::-1]
    mate_scores = np.array([s[i, int(np.where(gallery_subjects == psub[i])[0][0])] for i in range(p) if mated[i]])
    out = {'gallery': jl(gfeat.flatten()), 'gallerySubjects': [int(v) for v in gallery_subjects], 'probes': jl(pfeat.flatten()),
           'probeSubjects': [int(v) for v in psub], 'dim': d, 'cmc': {str(k): float(np.mean(ranks <= k)) for k in (1, 5, 10)}, 'tpir': {}}
    for f in (0.05, 0.2):
        m = int(np.floor(f * len(nonmated_max)))
        t = nonmated_max[m]
        out['tpir'][str(f)] = float(np.mean((ranks <= 1) & (mate_scores > t)))
    return out


def retrieval_case():
    # pytorch-metric-learning definitions, brute force (queries = references, self excluded,
    # queries whose label is alone excluded).
    n, d = 90, 8
    labels = rng.integers(0, 12, n)
    labels[0] = 99  # a lone label
    centres = rng.normal(0, 1, (100, d))
    e = (centres[labels] + 0.9 * rng.normal(0, 1, (n, d))).astype(np.float32).astype(np.float64)
    x = normalize(e)
    sim = x @ x.T
    p1 = rp = mapr = 0.0
    q = 0
    for i in range(n):
        r = int(np.sum(labels == labels[i])) - 1
        if r == 0:
            continue
        q += 1
        key = -sim[i].copy()
        key[i] = np.inf
        order = np.lexsort((np.arange(n), key))
        rel = (labels[order[:r]] == labels[i]).astype(np.float64)
        p1 += rel[0]
        rp += rel.sum() / r
        mapr += np.sum(np.cumsum(rel) / np.arange(1, r + 1) * rel) / r
    return {'embeddings': jl(e.flatten()), 'dim': d, 'labels': [int(v) for v in labels],
            'precisionAt1': p1 / q, 'rPrecision': rp / q, 'mapAtR': mapr / q, 'queries': q}


def intervals():
    out = []
    for k, n in [(0, 1000), (1, 1000), (7, 50), (50, 50), (480, 500), (3, 10), (1, 1), (12345, 19557)]:
        for conf in (0.95, 0.99):
            a = 1 - conf
            z = stats.norm.ppf(1 - a / 2)
            c = (k + z * z / 2) / (n + z * z)
            h = z / (n + z * z) * np.sqrt(k * (n - k) / n + z * z / 4)
            lo = 0.0 if k == 0 else stats.beta.ppf(a / 2, k, n - k + 1)
            hi = 1.0 if k == n else stats.beta.ppf(1 - a / 2, k + 1, n - k)
            out.append({'k': k, 'n': n, 'confidence': conf, 'wilson': [max(0.0, c - h), min(1.0, c + h)], 'clopperPearson': [float(lo), float(hi)]})
    quantiles = [{'p': p, 'z': float(stats.norm.ppf(p))} for p in (1e-10, 1e-4, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 0.999, 1 - 1e-9)]
    return out, quantiles


def npy_files():
    d = os.path.join(ROOT, 'npy')
    os.makedirs(d, exist_ok=True)
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    np.save(os.path.join(d, 'f4-3x4.npy'), a)
    np.save(os.path.join(d, 'f8-5.npy'), np.array([1.5, -2.25, 1e-300, 3e300, 0.0]))
    np.save(os.path.join(d, 'f8-big-endian-2x2.npy'), np.array([[1.0, 2.0], [3.0, -4.5]], dtype='>f8'))
    np.save(os.path.join(d, 'i8-4.npy'), np.array([0, 1, -7, 2**31 - 1], dtype=np.int64))
    np.save(os.path.join(d, 'bool-3.npy'), np.array([True, False, True]))
    np.save(os.path.join(d, 'f4-fortran.npy'), np.asfortranarray(a))
    with open(os.path.join(d, 'f4-v2-2x2.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.array([[1, 2], [3, 4]], dtype=np.float32), version=(2, 0))
    with open(os.path.join(d, 'f4-v3-2x2.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.array([[5, 6], [7, 8]], dtype=np.float32), version=(3, 0))
    # CLI inputs: pair scores and labels as numpy writes them.
    labels = (rng.random(2000) < 0.2).astype(np.uint8)
    scores = (rng.normal(0, 1, 2000) + 2 * labels).astype(np.float32)
    np.save(os.path.join(d, 'cli-scores.npy'), scores)
    np.save(os.path.join(d, 'cli-labels.npy'), labels.astype(bool))
    fpr, tpr, _ = roc_curve(labels, scores)
    return {'cliAuc': float(auc(fpr, tpr)), 'cliTarStrict': [float(np.max(tpr[fpr <= t])) for t in (1e-2, 1e-1)]}


def main():
    ints, quantiles = intervals()
    cli = npy_files()
    out = {
        'generator': 'tools/make_eval_fixtures.py (numpy %s, scikit-learn via sklearn.metrics, scipy %s)' % (np.__version__, __import__('scipy').__version__),
        'verification': verification_cases(),
        'lfw': [lfw_case('lfw-600', 600, 16, 0.9), lfw_case('lfw-flip-311', 311, 8, 1.1, far_target=1e-2, flip=True)],
        'ijb': ijb_case(),
        'identification': identification_case(),
        'retrieval': retrieval_case(),
        'intervals': ints,
        'quantiles': quantiles,
        'cli': cli,
    }
    path = os.path.join(ROOT, 'eval.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    print('wrote', os.path.normpath(path))


if __name__ == '__main__':
    main()
