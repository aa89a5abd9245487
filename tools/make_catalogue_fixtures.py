#!/usr/bin/python3
"""Golden fixtures for marginkit's catalogue losses (AdaFace, MagFace, CurricularFace, AdaCos,
ElasticFace, sub-centre ArcFace/CosFace), from an independent float64 PyTorch implementation
of the formulas in each paper and its reference code, under marginkit's conventions (DESIGN.md).
This is not a port of the TypeScript code, nor a copy of the reference repositories.

Run with Debian's interpreter, which has python3-torch:
    /usr/bin/python3 tools/make_catalogue_fixtures.py
Writes fixtures/catalogue-losses.json. CI does not run this; the JSON is committed.

Conventions shared by every case:
- x_hat = x / sqrt(max(|x|^2, 1e-24)), the same for centre rows; cos = x_hat W_hat^T.
- Sub-centres: centres have C*K rows, row c*K + k is sub-centre k of class c, and the class
  cosine is the max over k.
- Logits are s * (modified cosines); per-sample loss = logsumexp(row) - target logit.
- A label of -1 is ignored: its per-sample loss is 0 and it has no gradient; 'mean' divides by
  the number of valid rows, and batch statistics use valid rows only.
- Every input (embeddings, centres, state, sampled margins) is float32-representable.
- Inputs are redrawn until every discrete decision (a where(), a clip boundary, a max over
  sub-centres, a sort) is at least GAP away from its threshold, so a float32 backend takes the
  same branch as this float64 reference.
"""
import json
import math
import os

import torch

# The shared primitives (float64, the acos clamp 2**-23, the normalisation eps, float32 rounding
# and row normalisation) are those of the core fixtures' generator, beside this file.
from make_fixtures import EPS, F64, NORM_EPS, f32, normalize

GAP = 1e-4


class Gaps:
    """Collects the distance of every discrete decision from its threshold."""

    def __init__(self):
        self.min = math.inf
        self.where = ''

    def add(self, what, d):
        if d.numel() == 0:
            return
        v = d.abs().min().item()
        if v < self.min:
            self.min, self.where = v, what


def row_norm(x):
    return torch.sqrt(torch.clamp((x * x).sum(1), min=NORM_EPS * NORM_EPS))


def acos_eps(c):
    return torch.acos(torch.clamp(c, -1 + EPS, 1 - EPS))


# --------------------------------------------------------------------------------------------
# Margins. Each takes a context and returns (logits [B,C] already scaled, extra per-sample term
# or None, next state dict). Logits of ignored rows are computed with label 0 and masked later.
# --------------------------------------------------------------------------------------------

def ctx_of(x, w, labels, k):
    b = x.shape[0]
    valid = labels >= 0
    lab = torch.where(valid, labels, torch.zeros_like(labels))
    cos_all = normalize(x) @ normalize(w).T
    gaps = Gaps()
    if k > 1:
        cc = cos_all.reshape(b, -1, k)
        cos = cc.max(2).values
        top2 = torch.topk(cc.detach(), 2, dim=2).values
        gaps.add('sub-centre max', (top2[..., 0] - top2[..., 1])[valid])
    else:
        cos = cos_all
    onehot = torch.nn.functional.one_hot(lab, cos.shape[1]).to(F64)
    cy = (cos * onehot).sum(1)
    return {'x': x, 'cos': cos, 'cy': cy, 'onehot': onehot, 'valid': valid, 'gaps': gaps}


def replace_target(ctx, t):
    return ctx['cos'] + ctx['onehot'] * (t - ctx['cy'])[:, None]


def m_arcface(ctx, p, scale, state, training):
    m, cy, g = p['m'], ctx['cy'], ctx['gaps']
    t = torch.cos(acos_eps(cy) + m)
    fb = p.get('fallback', 'linear')
    if fb == 'linear':
        thr = math.cos(math.pi - m)
        g.add('arcface linear threshold', (cy - thr)[ctx['valid']])
        t = torch.where(cy > thr, t, cy - m * math.sin(m))
    elif fb != 'none':
        raise ValueError(fb)
    return scale * replace_target(ctx, t), None, {}


def m_cosface(ctx, p, scale, state, training):
    assert p.get('fallback', 'none') == 'none'
    return scale * replace_target(ctx, ctx['cy'] - p['m']), None, {}


def m_adaface(ctx, p, scale, state, training):
    m, h, alpha, eps = p['m'], p['h'], p['tAlpha'], p['epsilon']
    valid, g = ctx['valid'], ctx['gaps']
    norms = row_norm(ctx['x']).detach()
    g.add('adaface norm clip 0.001', (norms[valid] - 0.001) / 0.001)
    g.add('adaface norm clip 100', (norms[valid] - 100) / 100)
    safe = torch.clamp(norms, 0.001, 100)
    mu = torch.tensor(state['batchMean'][0], dtype=F64)
    sd = torch.tensor(state['batchStd'][0], dtype=F64)
    if training:
        v = safe[valid]
        mean = v.mean()
        std = v.std(unbiased=True) if v.numel() > 1 else torch.zeros((), dtype=F64)
        mu = mean * alpha + (1 - alpha) * mu     # EMA first (official order) ...
        sd = std * alpha + (1 - alpha) * sd
    raw = (safe - mu) / (sd + eps) * h          # ... then the scaler from the updated buffers
    g.add('adaface scaler clip', torch.cat([raw[valid] - 1, raw[valid] + 1]))
    scaler = torch.clamp(raw, -1, 1)
    cos = ctx['cos']
    vc = cos[valid]
    g.add('adaface cos clamp', torch.cat([(vc - (1 - eps)).flatten(), (vc - (-1 + eps)).flatten()]))
    cc = torch.clamp(cos, -1 + eps, 1 - eps)  # every class, as the official head
    ccy = (cc * ctx['onehot']).sum(1)
    theta_m = torch.acos(ccy) - m * scaler      # g_angular = -m * scaler
    g.add('adaface theta clip', torch.cat([theta_m[valid] - eps, theta_m[valid] - (math.pi - eps)]))
    theta_m = torch.clamp(theta_m, eps, math.pi - eps)
    t = torch.cos(theta_m) - (m + m * scaler)   # g_additive = m + m * scaler
    logits = cc + ctx['onehot'] * (t - ccy)[:, None]
    nxt = {'batchMean': [mu.item()], 'batchStd': [sd.item()]}
    return scale * logits, None, nxt


def m_magface(ctx, p, scale, state, training):
    la, ua, lm, um, lam = p['lowerNorm'], p['upperNorm'], p['lowerMargin'], p['upperMargin'], p['lambdaG']
    valid, g, cy = ctx['valid'], ctx['gaps'], ctx['cy']
    nrm = row_norm(ctx['x'])                     # gradient flows through the norm
    g.add('magface norm clamp', torch.cat([(nrm[valid] - la) / la, (nrm[valid] - ua) / ua]).detach())
    a = torch.clamp(nrm, la, ua)
    mar = (um - lm) / (ua - la) * (a - la) + lm
    c = torch.clamp(cy, -1 + EPS, 1 - EPS)
    ctm = c * torch.cos(mar) - torch.sqrt(1 - c * c) * torch.sin(mar)
    if p['fallback'] == 'linear':
        thr = torch.cos(math.pi - mar)
        g.add('magface linear threshold', (cy - thr)[valid].detach())
        t = torch.where(cy > thr, ctm, cy - mar * torch.sin(mar))
    elif p['fallback'] == 'easy':
        g.add('magface easy threshold', cy[valid].detach())
        t = torch.where(cy > 0, ctm, cy)
    else:
        raise ValueError(p['fallback'])
    reg = lam * (a / (ua * ua) + 1 / a)
    return scale * replace_target(ctx, t), reg, {}


def m_curricularface(ctx, p, scale, state, training):
    m, mom = p['m'], p['momentum']
    valid, g, cy, cos, oh = ctx['valid'], ctx['gaps'], ctx['cy'], ctx['cos'], ctx['onehot']
    ctm = torch.cos(acos_eps(cy) + m)            # cos(theta_y + m): target and mask threshold
    thr = math.cos(math.pi - m)
    g.add('curricular threshold', (cy - thr)[valid])
    final = torch.where(cy > thr, ctm, cy - m * math.sin(m))
    t = torch.tensor(state['t'][0], dtype=F64)
    if training:
        t = mom * cy[valid].detach().mean() + (1 - mom) * t   # updated before the reweighting
    diff = (cos - ctm[:, None]).detach()
    g.add('curricular mask', diff[valid][oh[valid] == 0])
    mask = (cos > ctm[:, None]) & (oh == 0)
    c2 = torch.where(mask, cos * (t + cos), cos)
    logits = c2 * (1 - oh) + oh * final[:, None]
    return scale * logits, None, {'t': [t.item()]}


def m_adacos(ctx, p, scale, state, training):
    valid, cos, oh, cy = ctx['valid'], ctx['cos'], ctx['onehot'], ctx['cy']
    s_old = torch.tensor(state['s'][0], dtype=F64)
    if training:
        with torch.no_grad():
            n = valid.sum()
            e = torch.exp(s_old * cos) * (1 - oh)
            b_avg = e[valid].sum() / n
            th = acos_eps(cy)[valid]
            med = torch.sort(th).values[(th.numel() - 1) // 2]   # lower median, as torch.median
            s_new = torch.log(b_avg) / torch.cos(torch.clamp(med, max=math.pi / 4))
    else:
        s_new = s_old
    return s_new * cos, None, {'s': [s_new.item()]}


def elastic_assign(cy, valid, margins):
    """Rank-matched ElasticFace+ assignment: the valid row with the k-th largest c_y gets the
    k-th smallest of the valid rows' sampled margins."""
    idx = torch.nonzero(valid).flatten()
    order = torch.sort(cy.detach()[idx], descending=True, stable=True).indices
    pool = torch.sort(margins[idx]).values
    out = margins.clone()
    out[idx[order]] = pool
    return out


def elastic_official(cy, valid, margins):
    """The permutation the official code applies, m_hot row i <- sorted_margin[argsort_desc[i]]
    (only for reporting in refs.md; not written to the fixture)."""
    idx = torch.nonzero(valid).flatten()
    order = torch.sort(cy.detach()[idx], descending=True, stable=True).indices
    pool = torch.sort(margins[idx]).values
    out = margins.clone()
    out[idx] = pool[order]
    return out


def m_elasticface(ctx, p, scale, state, training, margins):
    valid, g, cy = ctx['valid'], ctx['gaps'], ctx['cy']
    mg = margins
    if p['plus']:
        v = torch.sort(cy.detach()[valid]).values
        g.add('elastic+ sort', v[1:] - v[:-1])
        mg = elastic_assign(cy, valid, margins)
    if p['variant'] == 'arc':
        t = torch.cos(acos_eps(cy) + mg)
    elif p['variant'] == 'cos':
        t = cy - mg
    else:
        raise ValueError(p['variant'])
    return scale * replace_target(ctx, t), None, {}


MARGINS = {
    'arcface': m_arcface, 'cosface': m_cosface, 'adaface': m_adaface, 'magface': m_magface,
    'curricularface': m_curricularface, 'adacos': m_adacos,
}


# --------------------------------------------------------------------------------------------
# Loss and case layout
# --------------------------------------------------------------------------------------------

def run(x, w, labels, cfg, k, reduction, state, inputs, training):
    margin = cfg['margin'] if 'margin' in cfg else cfg
    ctx = ctx_of(x, w, labels, k)
    scale = cfg['scale']
    if margin['type'] == 'elasticface':
        z, extra, nxt = m_elasticface(ctx, margin, scale, state, training,
                                      torch.tensor(inputs['margins'], dtype=F64))
    else:
        z, extra, nxt = MARGINS[margin['type']](ctx, margin, scale, state, training)
    zy = (z * ctx['onehot']).sum(1)
    per = torch.logsumexp(z, 1) - zy
    valid = ctx['valid']
    aux = None
    if extra is not None:
        per = per + extra
        ex = torch.where(valid, extra, torch.zeros_like(extra))
        aux = ex.sum() / valid.sum() if reduction == 'mean' else ex.sum()
    per = torch.where(valid, per, torch.zeros_like(per))
    loss = per.sum() / valid.sum() if reduction == 'mean' else per.sum()
    return loss, per, aux, nxt, ctx


def case(name, margin, scale, reduction, k, x, w, labels, state=None, inputs=None, training=True,
         check_gaps=True, require=None):
    state = state or {}
    inputs = inputs or {}
    cfg = {'margin': margin, 'scale': scale, 'reduction': reduction, 'subCenters': k}
    x = x.clone().requires_grad_(True)
    w = w.clone().requires_grad_(True)
    loss, per, aux, nxt, ctx = run(x, w, labels, cfg, k, reduction, state, inputs, training)
    if check_gaps and ctx['gaps'].min < GAP:
        return None, ctx['gaps']
    if require is not None and not require(ctx):
        return None, Gaps()
    if not training:
        nxt = {key: list(v) for key, v in state.items()}
    gx, gw = torch.autograd.grad(loss, (x, w))
    for what, t in (('loss', loss), ('perSample', per), ('gx', gx), ('gw', gw)):
        assert torch.isfinite(t).all(), f'{name}: non-finite {what}'
    if aux is not None:
        assert math.isfinite(aux.item())
    for key, v in nxt.items():
        assert all(math.isfinite(u) for u in v), f'{name}: non-finite state {key}'
    return {
        'name': name,
        'config': cfg,
        'training': training,
        'embeddings': {'shape': list(x.shape), 'data': x.detach().flatten().tolist()},
        'centers': {'shape': list(w.shape), 'data': w.detach().flatten().tolist()},
        'labels': labels.tolist(),
        'state': state,
        'inputs': inputs,
        'loss': loss.item(),
        'perSample': per.detach().tolist(),
        'auxiliaryLoss': None if aux is None else aux.item(),
        'nextState': nxt,
        'gradEmbeddings': gx.flatten().tolist(),
        'gradCenters': gw.flatten().tolist(),
    }, ctx['gaps']


def random_inputs(gen, b, d, c, k=1, ignore=0):
    """Like make_fixtures.random_inputs, with C*K centre rows; the embedding is built around
    one random sub-centre of its class, target cosines spread over [-1, 1]."""
    if k == 1:
        w = f32(torch.randn(c, d, generator=gen, dtype=F64))
    else:
        # Sub-centres of a class scattered around a common direction, as after training.
        base = torch.randn(c, 1, d, generator=gen, dtype=F64)
        w = f32((base + 0.3 * torch.randn(c, k, d, generator=gen, dtype=F64)).reshape(c * k, d))
    labels = torch.randint(0, c, (b,), generator=gen)
    sub = torch.randint(0, k, (b,), generator=gen)
    a = torch.rand(b, 1, generator=gen, dtype=F64) * 3.5 - 1.5
    x = f32(a * normalize(w)[labels * k + sub] * math.sqrt(d) + 0.6 * torch.randn(b, d, generator=gen, dtype=F64))
    if ignore:
        drop = torch.randperm(b, generator=gen)[:ignore]
        labels = labels.clone()
        labels[drop] = -1
    return x, w, labels


def with_norms(x, norms):
    return f32(normalize(x) * torch.as_tensor(norms, dtype=F64)[:, None])


def log_uniform(gen, n, lo, hi):
    return torch.exp(math.log(lo) + torch.rand(n, generator=gen, dtype=F64) * (math.log(hi) - math.log(lo)))


def controlled_inputs(gen, d, c, rows):
    """rows: (label, target cosine, norm). x = norm * (cy * w_hat_y + sqrt(1 - cy^2) * u), u a
    random unit vector orthogonal to w_hat_y."""
    w = f32(torch.randn(c, d, generator=gen, dtype=F64))
    wn = normalize(w)
    xs, labels = [], []
    for lab, cy, nrm in rows:
        wy = wn[max(lab, 0)]
        u = torch.randn(d, generator=gen, dtype=F64)
        u = u - (u @ wy) * wy
        u = u / u.norm()
        xs.append(nrm * (cy * wy + math.sqrt(1 - cy * cy) * u))
        labels.append(lab)
    return f32(torch.stack(xs)), w, torch.tensor(labels)


def draw(gen, name, make, build, tries=200):
    """Draw inputs with make() until build(inputs) passes the gap check."""
    for _ in range(tries):
        out, gaps = build(*make())
        if out is not None:
            return out
    raise RuntimeError(f'{name}: no draw passed the gap check (last {gaps.where}: {gaps.min})')


def below(thr):
    """Coverage requirement: some valid row has c_y <= thr (e.g. the arcface fallback region)."""
    return lambda ctx: bool(((ctx['cy'] <= thr) & ctx['valid']).any())


FALLBACK_05 = math.cos(math.pi - 0.5)


def s_init(c):
    return f32(torch.tensor(math.sqrt(2) * math.log(c - 1))).item()


def main():
    gen = torch.Generator().manual_seed(20261129)
    cases = []
    notes = []
    shapes = ((6, 8, 5), (12, 16, 9))

    # ---------------------------------------------------------------- AdaFace
    ada = {'type': 'adaface', 'm': 0.4, 'h': 0.333, 'tAlpha': 0.01, 'epsilon': 1e-3}
    st0 = {'batchMean': [20.0], 'batchStd': [100.0]}
    st1 = {'batchMean': [15.0], 'batchStd': [3.0]}
    for i, (b, d, c) in enumerate(shapes):
        scale = 64.0 if i == 0 else 32.0

        def make(b=b, d=d, c=c, i=i):
            x, w, lab = random_inputs(gen, b, d, c, ignore=1 + i)
            return with_norms(x, log_uniform(gen, b, 0.5, 60)), w, lab
        cases.append(draw(gen, 'adaface', make, lambda x, w, lab, i=i, scale=scale: case(
            f'adaface,m=0.4/random-{i}', ada, scale, 'mean', 1, x, w, lab, st0)))

    def make_state():
        x, w, lab = random_inputs(gen, 12, 16, 9, ignore=2)
        return with_norms(x, log_uniform(gen, 12, 2, 40)), w, lab
    cases.append(draw(gen, 'adaface', make_state, lambda x, w, lab: case(
        'adaface,m=0.4/state-15-3', ada, 64.0, 'mean', 1, x, w, lab, st1)))
    cases.append(draw(gen, 'adaface', make_state, lambda x, w, lab: case(
        'adaface,m=0.4/eval', ada, 64.0, 'mean', 1, x, w, lab, st1, training=False)))
    # Every clip engaged: norm below 0.001 and above 100, scaler at +-1, theta_m below eps and
    # above pi - eps, target cosine past 1 - eps; plus ordinary rows and an ignored one.
    rows = [(0, 0.97, 150.0), (1, -0.97, 0.0004), (2, 0.9995, 20.0), (3, -0.9996, 12.0),
            (4, 0.3, 30.0), (0, -0.5, 5.0), (-1, 0.2, 50.0), (1, 0.6, 0.5), (2, 0.1, 14.0),
            (3, -0.2, 18.0)]
    x, w, lab = controlled_inputs(gen, 8, 5, rows)
    out, gaps = case('adaface,m=0.4/clips', ada, 64.0, 'mean', 1, x, w, lab, st1)
    assert out is not None, (gaps.where, gaps.min)
    cases.append(out)

    def make_one():
        x, w, lab = random_inputs(gen, 4, 8, 5, ignore=3)
        return with_norms(x, log_uniform(gen, 4, 5, 40)), w, lab
    cases.append(draw(gen, 'adaface', make_one, lambda x, w, lab: case(
        'adaface,m=0.4/one-valid', ada, 64.0, 'mean', 1, x, w, lab, st1)))

    def make_sum():
        x, w, lab = random_inputs(gen, 6, 8, 7, ignore=1)
        return with_norms(x, log_uniform(gen, 6, 1, 60)), w, lab
    cases.append(draw(gen, 'adaface', make_sum, lambda x, w, lab: case(
        'adaface,m=0.4/sum', ada, 64.0, 'sum', 1, x, w, lab, st1)))

    # ---------------------------------------------------------------- MagFace
    for fb in ('linear', 'easy'):
        mag = {'type': 'magface', 'lowerNorm': 10, 'upperNorm': 110, 'lowerMargin': 0.45,
               'upperMargin': 0.8, 'lambdaG': 35, 'fallback': fb}
        for i, (b, d, c) in enumerate(shapes):
            def make(b=b, d=d, c=c, i=i):
                x, w, lab = random_inputs(gen, b, d, c, ignore=1)
                nr = torch.cat([log_uniform(gen, b // 3, 3, 9), log_uniform(gen, b - 2 * (b // 3), 11, 100),
                                log_uniform(gen, b // 3, 120, 300)])
                return with_norms(x, nr[torch.randperm(b, generator=gen)]), w, lab
            cases.append(draw(gen, 'magface', make, lambda x, w, lab, i=i, mag=mag, fb=fb: case(
                f'magface,{fb}/random-{i}', mag, 64.0, 'mean', 1, x, w, lab)))
        if fb == 'linear':
            def make_s():
                x, w, lab = random_inputs(gen, 6, 8, 7, ignore=1)
                nr = torch.tensor([4.0, 8.0, 30.0, 70.0, 130.0, 250.0], dtype=F64)
                return with_norms(x, nr[torch.randperm(6, generator=gen)]), w, lab
            cases.append(draw(gen, 'magface', make_s, lambda x, w, lab, mag=mag: case(
                'magface,linear/sum', mag, 64.0, 'sum', 1, x, w, lab)))

    # ---------------------------------------------------------------- CurricularFace
    cur = {'type': 'curricularface', 'm': 0.5, 'momentum': 0.01}
    t03 = f32(torch.tensor(0.3)).item()
    for i, (b, d, c) in enumerate(shapes):
        cases.append(draw(gen, 'curricular', lambda b=b, d=d, c=c: random_inputs(gen, b, d, c, ignore=1),
                          lambda x, w, lab, i=i: case(f'curricularface,m=0.5/random-{i}', cur, 64.0,
                                                      'mean', 1, x, w, lab, {'t': [0.0]},
                                                      require=below(FALLBACK_05))))
    cases.append(draw(gen, 'curricular', lambda: random_inputs(gen, 12, 16, 9, ignore=2),
                      lambda x, w, lab: case('curricularface,m=0.5/t-0.3', cur, 64.0, 'mean', 1,
                                             x, w, lab, {'t': [t03]}, require=below(FALLBACK_05))))
    cases.append(draw(gen, 'curricular', lambda: random_inputs(gen, 12, 16, 9, ignore=1),
                      lambda x, w, lab: case('curricularface,m=0.5/eval', cur, 64.0, 'mean', 1,
                                             x, w, lab, {'t': [t03]}, training=False)))
    cases.append(draw(gen, 'curricular', lambda: random_inputs(gen, 6, 8, 7, ignore=1),
                      lambda x, w, lab: case('curricularface,m=0.5/sum', cur, 64.0, 'sum', 1,
                                             x, w, lab, {'t': [t03]}, require=below(FALLBACK_05))))

    # ---------------------------------------------------------------- AdaCos
    acs = {'type': 'adacos'}
    # random-0: 6 rows, 1 ignored (5 valid, odd); random-1: 12 rows, 2 ignored (10 valid, even,
    # so the lower median matters).
    for i, (b, d, c) in enumerate(shapes):
        cases.append(draw(gen, 'adacos', lambda b=b, d=d, c=c, i=i: random_inputs(gen, b, d, c, ignore=1 + i),
                          lambda x, w, lab, i=i, c=c: case(f'adacos/random-{i}', acs, 64.0, 'mean', 1,
                                                           x, w, lab, {'s': [s_init(c)]})))
    cases.append(draw(gen, 'adacos', lambda: random_inputs(gen, 12, 16, 9, ignore=0),
                      lambda x, w, lab: case('adacos/s-10', acs, 64.0, 'mean', 1, x, w, lab, {'s': [10.0]})))
    cases.append(draw(gen, 'adacos', lambda: random_inputs(gen, 12, 16, 9, ignore=1),
                      lambda x, w, lab: case('adacos/eval', acs, 64.0, 'mean', 1, x, w, lab,
                                             {'s': [10.0]}, training=False)))
    cases.append(draw(gen, 'adacos', lambda: random_inputs(gen, 6, 8, 7, ignore=1),
                      lambda x, w, lab: case('adacos/sum', acs, 64.0, 'sum', 1, x, w, lab,
                                             {'s': [s_init(7)]})))

    # ---------------------------------------------------------------- ElasticFace
    official_diff = []
    elastic = [('arc', 0.5, 0.05, False), ('arc', 0.5, 0.0175, True),
               ('cos', 0.35, 0.05, False), ('cos', 0.35, 0.02, True)]
    for variant, m, std, plus in elastic:
        el = {'type': 'elasticface', 'variant': variant, 'm': m, 'std': std, 'plus': plus}
        tag = f'elasticface,{variant}{"+" if plus else ""},m={m},std={std}'
        runs = [(i, b, d, c, 'mean') for i, (b, d, c) in enumerate(shapes)]
        if variant == 'arc' and plus:
            runs.append(('sum', 6, 8, 7, 'sum'))
        for i, b, d, c, red in runs:
            def make(b=b, d=d, c=c, i=i):
                x, w, lab = random_inputs(gen, b, d, c, ignore=1 if i != 0 else 0)
                mg = f32(m + std * torch.randn(b, generator=gen, dtype=F64))
                return x, w, lab, mg
            def build(x, w, lab, mg, el=el, tag=tag, i=i, red=red):
                name = f'{tag}/random-{i}' if red == 'mean' else f'{tag}/sum'
                if el['plus']:
                    # Keep only draws where the official permutation differs from the
                    # rank-matched one, so the fixture tells the two apart.
                    cy, valid = ctx_of(x, w, lab, 1)['cy'], lab >= 0
                    a, o = elastic_assign(cy, valid, mg), elastic_official(cy, valid, mg)
                    if not (a[valid] != o[valid]).any():
                        return None, Gaps()
                return case(name, el, 64.0, red, 1, x, w, lab, inputs={'margins': mg.tolist()},
                            require=below(math.cos(math.pi - el['m'])))
            out = draw(gen, 'elastic', make, build)
            cases.append(out)
            if plus:
                x = torch.tensor(out['embeddings']['data'], dtype=F64).reshape(out['embeddings']['shape'])
                w = torch.tensor(out['centers']['data'], dtype=F64).reshape(out['centers']['shape'])
                lab = torch.tensor(out['labels'])
                cy = ctx_of(x, w, lab, 1)['cy']
                valid = lab >= 0
                mg = torch.tensor(out['inputs']['margins'], dtype=F64)
                a, o = elastic_assign(cy, valid, mg), elastic_official(cy, valid, mg)
                official_diff.append((out['name'], bool((a[valid] != o[valid]).any())))
                if out['name'].endswith('random-0'):
                    notes.append((out['name'], cy.tolist(), mg.tolist(), a.tolist(), o.tolist()))

    # ---------------------------------------------------------------- sub-centres
    sub_cfgs = [({'type': 'arcface', 'm': 0.5, 'fallback': 'linear'}, 3, 'arcface,m=0.5,linear'),
                ({'type': 'cosface', 'm': 0.35, 'fallback': 'none'}, 2, 'cosface,m=0.35')]
    for mcfg, k, tag in sub_cfgs:
        runs = [(i, b, d, c, 'mean') for i, (b, d, c) in enumerate(shapes)]
        if k == 3:
            runs.append(('sum', 6, 8, 7, 'sum'))
        for i, b, d, c, red in runs:
            name = f'subcenter-{tag},K={k}/' + (f'random-{i}' if red == 'mean' else 'sum')
            cases.append(draw(gen, 'subcenter', lambda b=b, d=d, c=c, k=k: random_inputs(gen, b, d, c, k=k, ignore=1),
                              lambda x, w, lab, name=name, mcfg=mcfg, k=k, red=red: case(
                                  name, mcfg, 64.0, red, k, x, w, lab, require=below(FALLBACK_05)
                                  if mcfg['type'] == 'arcface' else None)))

    out = {
        'generator': 'tools/make_catalogue_fixtures.py (PyTorch %s, float64)' % torch.__version__,
        'epsilon': EPS,
        'normEpsilon': NORM_EPS,
        'cases': cases,
    }
    path = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'catalogue-losses.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    for name, differs in official_diff:
        print(f'{name}: official permutation {"differs from" if differs else "equals"} rank-matched')
    if os.environ.get('VERBOSE'):
        for n in notes:
            print(n)
    print(f'wrote {len(cases)} cases to {os.path.normpath(path)}')


if __name__ == '__main__':
    main()
