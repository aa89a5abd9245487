import { InternalError } from '@marginkit/core';
import { expectTypedError } from '@marginkit/core/testing';
import { describe, expect, it } from 'vitest';
import { IR_VERSION, OPSET, decodeModel, encodeModel } from './onnx.js';

describe('encodeModel', () => {
  it('round-trips a valid ModelProto object', () => {
    const model = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: 'g', node: [{ opType: 'Identity', input: ['x'], output: ['y'] }] },
    };
    const decoded = decodeModel(encodeModel(model));
    expect(decoded.irVersion).toBe(IR_VERSION);
    expect(decoded.graph?.node?.map((n) => [n.opType, n.input, n.output])).toEqual([['Identity', ['x'], ['y']]]);
  });

  it("rejects a model object the ONNX schema does not accept with a typed InternalError (our bug, not the caller's argument)", () => {
    expectTypedError(() => encodeModel({ irVersion: 'eight' }), { error: InternalError, message: /^internal error: .*invalid ONNX model.*irVersion/ });
  });
});
