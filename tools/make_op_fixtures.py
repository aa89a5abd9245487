#!/usr/bin/python3
"""Golden fixtures for the op conformance suite of @marginkit/core/testing: every case's inputs,
its value and the gradient of a weighted sum of its output, computed by PyTorch in float64 (an
implementation independent of the TypeScript reference backend).

Run with Debian's interpreter, which has python3-torch:  /usr/bin/python3 tools/make_op_fixtures.py
Writes packages/core/src/testing/fixtures/conformance-ops.json, which ships with the testing kit
(the suite reads it at run time), so CI does not need Python.

The case labels are the keys the suite (packages/core/src/testing/conformance.ts) matches on: a
case here without a TypeScript twin, or the reverse, fails the suite. Inputs and weights are
rounded to float32, so a float32 backend and this float64 reference see the same numbers.
"""
import json
import os

import torch

from make_fixtures import F64, f32

torch.set_num_threads(2)
GEN = torch.Generator().manual_seed(20261202)


def draw(shape, kind):
    """Inputs by kind, as the suite used to draw them: values rounded to float32."""
    if kind == 'normal':
        t = torch.randn(shape, generator=GEN, dtype=F64)
    elif kind == 'positive':
        t = 0.2 + 2.8 * torch.rand(shape, generator=GEN, dtype=F64)
    elif kind == 'unit':
        t = -0.95 + 1.9 * torch.rand(shape, generator=GEN, dtype=F64)
    elif kind == 'large':
        t = 80 + 20 * torch.rand(shape, generator=GEN, dtype=F64)
    elif kind == 'offInteger':  # away from integers, so floor and the clip bounds are not hit
        t = torch.floor(-3 + 6 * torch.rand(shape, generator=GEN, dtype=F64)) + 0.1 + 0.8 * torch.rand(shape, generator=GEN, dtype=F64)
    else:
        raise ValueError(kind)
    return f32(t)


def values(shape, data):
    return f32(torch.tensor(data, dtype=F64).reshape(shape))


def indices(shape, depth):
    return torch.randint(0, depth, shape, generator=GEN)


def as_float(t):
    return t.to(F64)


CASES = []


def case(op, label, inputs, run, grad=()):
    CASES.append({'op': op, 'label': label, 'inputs': inputs, 'run': run, 'grad': list(grad)})


def build_cases():
    # Exact, not rounded to float32: what the op was asked for (a float32 backend is within its tolerance).
    case('constant', 'constant float32 [2,3]', [], lambda: torch.tensor([1.5, -2, 0, 3.25, 1e-3, -7], dtype=F64).reshape(2, 3))
    case('constant', 'constant fill', [], lambda: torch.full((2, 2), 0.25, dtype=F64))
    case('constant', 'constant int32 via cast', [], lambda: torch.tensor([3, -1, 7], dtype=torch.int32).to(F64))
    for ta, tb, sa, sb in ((False, False, [4, 3], [3, 5]), (True, False, [3, 4], [3, 5]), (False, True, [4, 3], [5, 3]), (True, True, [3, 4], [5, 3])):
        case('matmul', f'matmul transposeA={str(ta).lower()} transposeB={str(tb).lower()}', [draw(sa, 'normal'), draw(sb, 'normal')],
             lambda a, b, ta=ta, tb=tb: (a.T if ta else a) @ (b.T if tb else b), grad=[0, 1])
    binary = {'add': torch.add, 'sub': torch.sub, 'mul': torch.mul, 'div': torch.div, 'maximum': torch.maximum, 'minimum': torch.minimum}
    for op, fn in binary.items():
        second = 'positive' if op == 'div' else 'normal'
        for label, sa, sb in (('[3,4]·[3,4]', [3, 4], [3, 4]), ('[3,4]·[4] broadcast', [3, 4], [4]), ('[3,1]·[] broadcast', [3, 1], [])):
            case(op, f'{op} {label}', [draw(sa, 'normal'), draw(sb, second)], fn, grad=[0, 1])
    # The op set's tie rule (ops.ts): on ties the gradient of maximum and minimum goes to `a`
    # (PyTorch would split it), and clip passes the gradient at its bounds (inclusive).
    ties_a = values([6], [1, -0.5, 2, 0.25, -3, 0])
    ties_b = values([6], [1, 0.5, 2, -0.25, -3, 0.75])
    case('maximum', 'maximum ties: the gradient goes to a', [ties_a, ties_b], lambda a, b: torch.where(a >= b, a, b), grad=[0, 1])
    case('minimum', 'minimum ties: the gradient goes to a', [ties_a, ties_b], lambda a, b: torch.where(a <= b, a, b), grad=[0, 1])
    case('greater', 'greater (as where mask)', [draw([3, 4], 'normal'), draw([4], 'normal')], lambda a, b: as_float(a > b))
    case('less', 'less (as where mask)', [draw([3, 4], 'normal'), draw([3, 4], 'normal')], lambda a, b: as_float(a < b))
    case('where', 'where', [draw([3, 4], 'normal') for _ in range(3)], lambda c, a, b: torch.where(c > 0, a, b), grad=[1, 2])
    case('greater', 'where(a > 0, a², b) differentiated through the condition', [draw([3, 4], 'normal'), draw([3, 4], 'normal')],
         lambda a, b: torch.where(a > 0, a * a, b), grad=[0, 1])
    case('less', 'where(a < b, a, −b) differentiated through the condition', [draw([3, 4], 'normal'), draw([3, 4], 'normal')],
         lambda a, b: torch.where(a < b, a, -b), grad=[0, 1])
    unary = (('neg', 'normal', torch.neg), ('sqrt', 'positive', torch.sqrt), ('exp', 'normal', torch.exp), ('log', 'positive', torch.log),
             ('cos', 'normal', torch.cos), ('sin', 'normal', torch.sin), ('acos', 'unit', torch.acos))
    for op, kind, fn in unary:
        case(op, f'{op} [2,5]', [draw([2, 5], kind)], fn, grad=[0])
    case('acos', 'acos near ±1', [values([4], [-0.999, -0.99, 0.99, 0.999])], torch.acos, grad=[0])
    case('floor', 'floor', [draw([2, 5], 'offInteger')], torch.floor, grad=[0])
    case('clip', 'clip [-0.5, 0.5]', [draw([3, 5], 'offInteger')], lambda x: torch.clamp(x, -0.5, 0.5), grad=[0])
    case('clip', 'clip at its bounds (the gradient passes, inclusive)', [values([5], [-0.5, 0.5, -0.75, 0.75, 0.25])],
         lambda x: torch.clamp(x, -0.5, 0.5), grad=[0])
    reduce = {'sum': torch.sum, 'mean': torch.mean, 'max': torch.amax, 'logSumExp': torch.logsumexp}
    for op, fn in reduce.items():
        for axis in (0, 1):
            for keep in (False, True):
                case(op, f'{op} axis {axis}{" keepDims" if keep else ""}', [draw([3, 5], 'normal')],
                     lambda x, fn=fn, axis=axis, keep=keep: fn(x, axis, keepdim=keep), grad=[0])
    case('logSumExp', 'logSumExp large values (no overflow)', [draw([2, 4], 'large')], lambda x: torch.logsumexp(x, 1), grad=[0])
    case('reshape', 'reshape [2,6] → [3,4]', [draw([2, 6], 'normal')], lambda x: x.reshape(3, 4), grad=[0])
    case('reshape', 'reshape [6] → [-1, 1]', [draw([6], 'normal')], lambda x: x.reshape(-1, 1), grad=[0])
    case('gatherPerRow', 'gatherPerRow [4,5]', [draw([4, 5], 'normal'), indices([4], 5)], lambda x, i: torch.gather(x, 1, i[:, None])[:, 0], grad=[0])
    case('oneHot', 'oneHot depth 6', [indices([5], 6)], lambda i: as_float(torch.nn.functional.one_hot(i, 6)))
    case('stopGradient', 'stopGradient', [draw([3, 3], 'normal')], lambda x: x.detach(), grad=[0])
    case('cast', 'cast bool → float32 (comparisons as 0/1)', [draw([3, 4], 'normal'), draw([4], 'normal')], lambda a, b: as_float(a > b))
    case('cast', 'cast float32 → int32 truncates', [values([6], [2.7, -2.7, 0.2, -0.2, 5, -5])], lambda x: as_float(x.to(torch.int32)))


def tensor_json(t):
    return {'shape': list(t.shape), 'dtype': 'int32' if t.dtype == torch.int64 else 'float32', 'data': t.detach().flatten().tolist()}


def evaluate(c):
    xs = [x.clone().requires_grad_(i in c['grad']) if x.dtype == F64 else x for i, x in enumerate(c['inputs'])]
    out = c['run'](*xs)
    entry = {'op': c['op'], 'label': c['label'], 'inputs': [tensor_json(x) for x in c['inputs']], 'value': {'shape': list(out.shape), 'data': out.detach().flatten().tolist()}}
    if c['grad']:
        weights = f32(-1 + 2 * torch.rand(out.shape, generator=GEN, dtype=F64))
        loss = (out * weights).sum()
        wrt = [xs[i] for i in c['grad']]
        grads = torch.autograd.grad(loss, wrt, allow_unused=True) if loss.requires_grad else [None] * len(wrt)
        entry['weights'] = weights.flatten().tolist()
        entry['gradients'] = [{'input': i, 'data': (torch.zeros_like(x) if g is None else g).flatten().tolist()} for i, x, g in zip(c['grad'], wrt, grads)]
    for t in [out] + [torch.tensor(g['data']) for g in entry.get('gradients', [])]:
        assert torch.isfinite(t).all(), c['label']
    return entry


def main():
    build_cases()
    labels = [c['label'] for c in CASES]
    assert len(set(labels)) == len(labels), 'duplicate labels'
    out = {'generator': 'tools/make_op_fixtures.py (PyTorch %s, float64)' % torch.__version__, 'cases': [evaluate(c) for c in CASES]}
    path = os.path.join(os.path.dirname(__file__), '..', 'packages', 'core', 'src', 'testing', 'fixtures', 'conformance-ops.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'), ensure_ascii=False)
        f.write('\n')
    print(f'wrote {len(CASES)} cases to {os.path.normpath(path)}')


if __name__ == '__main__':
    main()
