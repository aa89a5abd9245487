import { describe, expect, it } from 'vitest';
import { findPrintChecks, literal, matchesPrinted, sameNumber } from './printed-output.js';

describe('findPrintChecks', () => {
  it('finds the console.log calls whose line ends in a comment, and rewrites only those, line for line', () => {
    const code = [
      "console.log('a'); // 'a'",
      'console.log(1);',
      'if (ok) console.log(2, [3]); // 2 [3]: explained',
      'console.log(',
      '  {',
      '    k: 1,',
      '  },',
      '); // { k: 1 }',
      "const s = 'console.log(4); // 4';",
    ].join('\n');
    const { checks, instrumented } = findPrintChecks(code);
    expect(checks).toEqual([
      { id: 0, line: 1, expected: "'a'" },
      { id: 1, line: 3, expected: '2 [3]: explained' },
      { id: 2, line: 8, expected: '{ k: 1 }' },
    ]);
    expect(instrumented.split('\n')).toEqual([
      "__printed(0)('a'); // 'a'",
      'console.log(1);',
      'if (ok) __printed(1)(2, [3]); // 2 [3]: explained',
      '__printed(2)(',
      '  {',
      '    k: 1,',
      '  },',
      '); // { k: 1 }',
      "const s = 'console.log(4); // 4';",
    ]);
  });
});

describe('literal', () => {
  it('spells values as the comments write them', () => {
    expect(literal(['a', 1, -0, true, null, undefined])).toBe("['a', 1, -0, true, null, undefined]");
    expect(literal({ type: 'arcface', m: 0.5, 'a-b': [] })).toBe("{ type: 'arcface', m: 0.5, 'a-b': [] }");
    expect(literal(Int32Array.of(1, 2))).toBe('Int32Array [1, 2]');
    expect(literal("it's")).toBe("'it\\'s'");
  });
});

describe('sameNumber', () => {
  it('compares to the written precision', () => {
    expect(sameNumber('0.877', 0.8771)).toBe(true);
    expect(sameNumber('0.877', 0.8764)).toBe(false);
    expect(sameNumber('0.877', 0.8776)).toBe(false);
    expect(sameNumber('17', 17)).toBe(true);
    expect(sameNumber('17', 17.2)).toBe(false);
    expect(sameNumber('1.5e-3', 0.00153)).toBe(true);
    expect(sameNumber('1.5e-3', 0.00156)).toBe(false);
    expect(sameNumber('0.1', 0.1)).toBe(true);
  });
});

describe('matchesPrinted', () => {
  it.each([
    ["['0.877', '0.000']", [['0.877', '0.000']]],
    ["[-1, 512] 'float32' true", [[-1, 512], 'float32', true]],
    ['[-1, 512] float32 true', [[-1, 512], 'float32', true]],
    ["{ kind: 'sgd', learningRate: 0.1 }", [{ kind: 'sgd', learningRate: 0.1 }]],
    ["'0.6931' (ln 2)", ['0.6931']],
    ['true: t moved', [true]],
    ['[32, 10]: cosines for inference', [[32, 10]]],
    ["'compose' [...]", ['compose', ['a', 'b']]],
    ['backend: not a v1 backend; missing: ...', ['backend: not a v1 backend; missing: ops, name']],
    ['[9.76...] = √2·ln 1000', [[9.76895]]],
    ['≈ 0.000895 = log(...)', [0.00089512]],
    ['Float64Array [3]', [Float64Array.of(3)]],
    ['myMargin.mm: unknown option; expected one of: m', ['myMargin.mm: unknown option; expected one of: m']],
    ['true fading.mm: unknown option', [true, 'fading.mm: unknown option']],
    ['[] []', [[], []]],
    ['undefined', [undefined]],
  ] as const)('%s matches', (expected, args) => {
    expect(matchesPrinted(expected, args)).toBe(true);
  });

  it.each([
    ["['0.877', '0.000']", [['0.877', '0.001']], 'a string differs'],
    ["['0.877', '0.000']", [['0.877']], 'an element is missing'],
    ['[3, 4]', [[3, 4, 5]], 'an element is extra'],
    ['0.877', [0.878], 'a number differs at the written precision'],
    ['29', [28], 'an integer differs'],
    ['true', [false], 'a boolean differs'],
    ["'psi'", ['linear'], 'a string differs'],
    ["{ type: 'arcface', m: 0.5 }", [{ type: 'arcface', m: 0.4 }], 'a field differs'],
    ['[] [16]: explained', [[]], 'an argument is missing before the explanation'],
    ['true moved', [true], 'what follows is not an explanation'],
    ['[9.76...]', [[9.78]], 'a prefix differs'],
    ['lists the known types', ['registry: unknown type'], 'a description is not an output'],
  ] as const)('%s does not match %j (%s)', (expected, args, _why) => {
    expect(matchesPrinted(expected, args)).toBe(false);
  });
});
