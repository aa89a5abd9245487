"""PyTorch CPU reference for bench/src/loss-step.ts: one forward+backward of the ArcFace head
(insightface's formula, autograd), median time over runs, 2 threads."""
import json
import math
import sys
import time

import torch

torch.set_num_threads(2)
B, D, C, runs = (int(v) for v in sys.argv[1:5])
warmup = int(sys.argv[5]) if len(sys.argv) > 5 else 1
g = torch.Generator().manual_seed(0)
x = torch.randn(B, D, generator=g, requires_grad=True)
w = torch.randn(C, D, generator=g, requires_grad=True)
y = torch.randint(0, C, (B,), generator=g)
m, s = 0.5, 64.0
th, mm = math.cos(math.pi - m), math.sin(math.pi - m) * m


def step():
    cos = torch.nn.functional.linear(torch.nn.functional.normalize(x), torch.nn.functional.normalize(w)).clamp(-1, 1)
    cy = cos[torch.arange(B), y]
    sin = torch.sqrt(1 - cy * cy)
    phi = cy * math.cos(m) - sin * math.sin(m)
    phi = torch.where(cy > th, phi, cy - mm)
    logits = cos.scatter(1, y[:, None], phi[:, None]) * s
    loss = torch.nn.functional.cross_entropy(logits, y)
    x.grad = None
    w.grad = None
    loss.backward()
    return loss.item()


for _ in range(warmup):
    step()
times = []
for _ in range(runs):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
print(json.dumps({'seconds': sorted(times)[len(times) // 2]}))
