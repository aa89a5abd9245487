"""PyTorch CPU reference for the bench: the ArcFace head (insightface's formula, autograd) at one
size with a given number of threads, forward, forward+backward, and a training step of the head
(forward+backward and torch.optim.SGD with momentum on the centres), timed like the Node side
(warm-up, then minRuns..maxRuns runs within a budget); prints JSON with the timings, the loss and
this process's peak RSS.

    loss_step.py B D C threads warmup minRuns maxRuns budgetSeconds passes

passes: a comma-separated subset of fwd, fwd+bwd, train.
"""
import json
import math
import resource
import sys
import time

import torch

B, D, C, threads, warmup, min_runs, max_runs = (int(v) for v in sys.argv[1:8])
budget = float(sys.argv[8])
passes = sys.argv[9].split(',')
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(0)
x = torch.randn(B, D, generator=g, requires_grad=True)
w = torch.randn(C, D, generator=g, requires_grad=True)
y = torch.randint(0, C, (B,), generator=g)
m, s = 0.5, 64.0
th, mm = math.cos(math.pi - m), math.sin(math.pi - m) * m
F = torch.nn.functional


def loss_fn():
    cos = F.linear(F.normalize(x), F.normalize(w)).clamp(-1, 1)
    cy = cos[torch.arange(B), y]
    sin = torch.sqrt(1 - cy * cy)
    phi = cy * math.cos(m) - sin * math.sin(m)
    phi = torch.where(cy > th, phi, cy - mm)
    logits = cos.scatter(1, y[:, None], phi[:, None]) * s
    return F.cross_entropy(logits, y)


def forward():
    with torch.no_grad():
        return loss_fn().item()


def forward_backward():
    loss = loss_fn()
    x.grad = None
    w.grad = None
    loss.backward()
    return loss.item()


optimizer = torch.optim.SGD([w], lr=0.1, momentum=0.9)


def train_step():
    loss = loss_fn()
    x.grad = None
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def quantile(v, q):
    at = (len(v) - 1) * q
    lo = math.floor(at)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (at - lo)


def timed(fn):
    for _ in range(warmup):
        value = fn()
    times = []
    while len(times) < max_runs and (len(times) < min_runs or sum(times) < budget):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    v = sorted(times)
    timing = {'median': quantile(v, 0.5), 'min': v[0], 'max': v[-1], 'q1': quantile(v, 0.25), 'q3': quantile(v, 0.75), 'samples': times}
    return {'timing': timing, 'loss': value}


steps = {'fwd': forward, 'fwd+bwd': forward_backward, 'train': train_step}
out = {p: timed(steps[p]) for p in passes}
out['peakRssMB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
