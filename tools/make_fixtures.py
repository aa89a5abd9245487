#!/usr/bin/python3
"""Golden fixtures for marginkit's margin softmax losses, from an independent float64 PyTorch
implementation of the formulas in DESIGN.md (not a port of the TypeScript code).

Run with Debian's interpreter, which has python3-torch:  /usr/bin/python3 tools/make_fixtures.py
Writes fixtures/margin-losses.json. CI does not run this; the JSON is committed.

Every input is float32-representable, so a float32 backend and this float64 reference see the
same numbers. Edge cases use axis-aligned vectors so that c = +1 and c = -1 hold exactly in
float32 as well as in float64.
"""
import json
import math
import os

import torch

torch.set_num_threads(2)
torch.manual_seed(0)
F64 = torch.float64
# acos clamp: 2**-23, the float32 machine epsilon, so that 1 - eps is exactly representable in
# float32 and every backend clamps at the same point as this reference (see DESIGN notes).
EPS = 2.0 ** -23
NORM_EPS = 1e-12


def normalize(x):
    return x / torch.sqrt(torch.clamp((x * x).sum(1, keepdim=True), min=NORM_EPS * NORM_EPS))


def psi(u):
    k = torch.floor(u / math.pi)
    sign = 1.0 - 2.0 * torch.remainder(k, 2.0)
    return sign * torch.cos(u) - 2.0 * k


def angular(c, m1, m2, m3, fallback):
    if m1 == 1 and m2 == 0:
        t = c - m3
    else:
        theta = torch.acos(torch.clamp(c, -1 + EPS, 1 - EPS))
        u = m1 * theta + m2
        t = (psi(u) if fallback == 'psi' else torch.cos(u)) - m3
        if fallback == 'linear':
            t = torch.where(c > math.cos(math.pi - m2), t, c - m2 * math.sin(m2) - m3)
    if fallback == 'easy':
        t = torch.where(c > 0, t, c)
    return t


def policy(c, t, gradient):
    return t if gradient == 'exact' else c + (t - c).detach()


def target(c, cfg):
    kind = cfg['type']
    if kind == 'none':
        return c
    if kind == 'compose':
        for sub in cfg['margins']:
            c = target(c, sub)
        return c
    g = cfg.get('gradient', 'exact')
    if kind == 'cosface':
        return policy(c, angular(c, 1, 0, cfg.get('m', 0.35), cfg.get('fallback', 'none')), g)
    if kind == 'arcface':
        return policy(c, angular(c, 1, cfg.get('m', 0.5), 0, cfg.get('fallback', 'linear')), g)
    if kind == 'combined':
        return policy(c, angular(c, cfg.get('m1', 1), cfg.get('m2', 0.3), cfg.get('m3', 0.2), cfg.get('fallback', 'psi')), g)
    if kind == 'sphereface':
        t = angular(c, cfg.get('m', 4), 0, 0, cfg.get('fallback', 'psi'))
        lam = cfg.get('lambda', 0)
        if lam:
            t = (lam * c + t) / (1 + lam)
        return policy(c, t, g)
    raise ValueError(kind)


def feature_scale(cfg):
    if cfg['type'] == 'compose':
        return 'norm' if any(feature_scale(m) == 'norm' for m in cfg['margins']) else 'fixed'
    return cfg.get('featureScale', 'fixed')


def loss_fn(x, w, labels, cfg, scale):
    xn, wn = normalize(x), normalize(w)
    cos = xn @ wn.T
    onehot = torch.nn.functional.one_hot(labels, w.shape[0]).to(F64)
    cy = (cos * onehot).sum(1)
    t = target(cy, cfg)
    logits = cos + onehot * (t - cy)[:, None]
    if feature_scale(cfg) == 'norm':
        s = torch.sqrt(torch.clamp((x * x).sum(1, keepdim=True), min=NORM_EPS * NORM_EPS))
        per = torch.logsumexp(logits * s, 1) - t * s[:, 0]
    else:
        per = torch.logsumexp(logits * scale, 1) - t * scale
    return per


def f32(t):
    return t.to(torch.float32).to(F64)


def random_inputs(gen, b, d, c):
    w = f32(torch.randn(c, d, generator=gen, dtype=F64))
    labels = torch.randint(0, c, (b,), generator=gen)
    # Spread the target cosine over [-1, 1]: x = a * w_y + noise, a in [-1.5, 2].
    a = torch.rand(b, 1, generator=gen, dtype=F64) * 3.5 - 1.5
    x = f32(a * normalize(w)[labels] * math.sqrt(d) + 0.6 * torch.randn(b, d, generator=gen, dtype=F64))
    return x, w, labels


def edge_inputs():
    """Rows: c_y = +1 exactly, c_y = -1 exactly, theta + m past pi (c = -0.95), a zero
    embedding, a row whose target centre is zero, and an ordinary row."""
    d, c = 4, 5
    w = torch.tensor([[2, 0, 0, 0], [0, 3, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0.5, -1]], dtype=F64)
    s = math.sqrt(1 - 0.95 ** 2)
    x = torch.tensor([
        [5, 0, 0, 0],           # label 0: c = +1 exactly
        [0, -4, 0, 0],          # label 1: c = -1 exactly
        [-0.95, 0, s, 0],       # label 0: c = -0.95, theta ~ 2.83 (+0.5 > pi)
        [0, 0, 0, 0],           # zero embedding, label 3
        [1, -2, 0.5, 3],        # label 2: zero centre
        [0.3, 0.9, -0.2, 0.1],  # label 1: ordinary
    ], dtype=F64)
    labels = torch.tensor([0, 1, 0, 3, 2, 1])
    return f32(x), f32(w), labels


def margins():
    out = [{'type': 'none'}]
    for g in ('exact', 'straight-through'):
        for fb in ('none', 'easy'):
            out.append({'type': 'cosface', 'm': 0.35, 'fallback': fb, 'gradient': g})
        for fb in ('linear', 'psi', 'easy', 'none'):
            out.append({'type': 'arcface', 'm': 0.5, 'fallback': fb, 'gradient': g})
        for fb in ('psi', 'easy', 'none'):
            out.append({'type': 'sphereface', 'm': 4, 'fallback': fb, 'gradient': g})
            out.append({'type': 'combined', 'm1': 1.2, 'm2': 0.3, 'm3': 0.2, 'fallback': fb, 'gradient': g})
        for fb in ('linear', 'psi', 'easy', 'none'):
            out.append({'type': 'combined', 'm1': 1, 'm2': 0.3, 'm3': 0.2, 'fallback': fb, 'gradient': g})
        out.append({'type': 'sphereface', 'm': 1.35, 'lambda': 5, 'gradient': g})
    out.append({'type': 'sphereface', 'm': 4, 'featureScale': 'norm'})
    out.append({'type': 'compose', 'margins': [{'type': 'arcface', 'm': 0.3, 'fallback': 'none'}, {'type': 'cosface', 'm': 0.2}]})
    return out


def slug(cfg):
    if cfg['type'] == 'compose':
        return 'compose(' + '+'.join(slug(m) for m in cfg['margins']) + ')'
    return cfg['type'] + ''.join(f",{k}={v}" for k, v in cfg.items() if k != 'type')


def case(name, cfg, scale, reduction, x, w, labels):
    x = x.clone().requires_grad_(True)
    w = w.clone().requires_grad_(True)
    per = loss_fn(x, w, labels, cfg, scale)
    loss = per.mean() if reduction == 'mean' else per.sum()
    gx, gw = torch.autograd.grad(loss, (x, w))
    for name_, t in (('loss', loss), ('gx', gx), ('gw', gw)):
        assert torch.isfinite(t).all(), f'{name}: non-finite {name_}'
    return {
        'name': name,
        'config': {'margin': cfg, 'scale': scale, 'reduction': reduction},
        'embeddings': {'shape': list(x.shape), 'data': x.detach().flatten().tolist()},
        'centers': {'shape': list(w.shape), 'data': w.detach().flatten().tolist()},
        'labels': labels.tolist(),
        'loss': loss.item(),
        'perSample': per.detach().tolist(),
        'gradEmbeddings': gx.flatten().tolist(),
        'gradCenters': gw.flatten().tolist(),
    }


def main():
    gen = torch.Generator().manual_seed(20261128)
    cases = []
    for cfg in margins():
        for i, (b, d, c) in enumerate(((4, 8, 5), (9, 16, 12))):
            x, w, labels = random_inputs(gen, b, d, c)
            cases.append(case(f'{slug(cfg)}/random-{i}', cfg, 32.0 if i == 0 else 64.0, 'mean', x, w, labels))
        x, w, labels = edge_inputs()
        cases.append(case(f'{slug(cfg)}/edges', cfg, 64.0, 'mean', x, w, labels))
        x, w, labels = random_inputs(gen, 6, 8, 7)
        cases.append(case(f'{slug(cfg)}/scale-128-sum', cfg, 128.0, 'sum', x, w, labels))
    out = {
        'generator': 'tools/make_fixtures.py (PyTorch %s, float64)' % torch.__version__,
        'epsilon': EPS,
        'normEpsilon': NORM_EPS,
        'cases': cases,
    }
    path = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'margin-losses.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.normpath(path)}')


if __name__ == '__main__':
    main()
