import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildProgram } from '../../src/entry-points/cli/program';

/**
 * The identifier commands as an operator runs them. A few cases go through the real door, a child
 * process `tsx src/main.ts ...`; the rest run the same program in-process (`buildProgram()`),
 * because each child costs 1.5 s of CPU to load the whole service, and the output, stderr and exit
 * code are produced by the same code either way.
 */
const REPO_ROOT = path.join(__dirname, '..', '..');

type Run = { code: number | null; stdout: string; stderr: string };

function cli(args: string[]): Promise<Run> {
  const child = spawn(
    path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
    [path.join(REPO_ROOT, 'src', 'main.ts'), ...args],
    {
      cwd: REPO_ROOT,
      // No configuration in the environment: these commands must not need any.
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Runs the program in this process, capturing what it writes and the exit code it sets. */
async function inProcess(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync(['node', 'pagopa-adapter', ...args]);
    const code = process.exitCode ?? 0;
    return { code: typeof code === 'number' ? code : Number(code), stdout, stderr };
  } finally {
    process.exitCode = exitCodeBefore;
    out.mockRestore();
    err.mockRestore();
  }
}

const ok = (stdout: string): Run => ({ code: 0, stdout, stderr: '' });

describe('pagopa-adapter identifier commands, through the real door', () => {
  // Side by side: each child spends most of its time loading modules.
  test.concurrent.each<[string, string[], Run]>([
    [
      'notice make',
      ['notice', 'make', '--aux', '3', '--segregation', '02', '--base', '0320027000002'],
      ok('302032002700000251\n'),
    ],
    ['card-code make', ['card-code', 'make', '12345'], ok('1234569\n')],
    [
      'qr --json',
      ['qr', '302032002700000251', '81005750021', '1230', '--json'],
      ok(
        '{"qrCode":"PAGOPA|002|302032002700000251|81005750021|1230","noticeNumber":"302032002700000251","creditorFiscalCode":"81005750021","amountCents":1230}\n',
      ),
    ],
    [
      'a mistyped card code',
      ['card-code', 'check', '1234568'],
      {
        code: 1,
        stdout: '',
        stderr:
          'error: card-code-invalid: card code 1234568 is mistyped: its last 2 digits do not match the card number\n',
      },
    ],
  ])('%s', async (_name, args, expected) => {
    expect(await cli(args)).toEqual(expected);
  });

  test.concurrent(
    'notice parse reports wrong check digits without refusing the notice',
    async () => {
      const run = await cli(['notice', 'parse', '311111111112222222', '--json']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(run.stdout)).toMatchObject({ checkDigits: '22', checkDigitsValid: false });
    },
  );

  test.concurrent(
    'rf check --json prints every result, then exits 1 when one is invalid',
    async () => {
      const run = await cli(['rf', 'check', 'RF45w9', 'RF46w9', '--json']);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        'error: rf-invalid: 1 of 2 invalid; first: creditor reference RF46w9 has check digits 46 that do not match\n',
      );
      expect(JSON.parse(run.stdout)).toEqual([
        {
          input: 'RF45w9',
          valid: true,
          creditorReference: 'RF45w9',
          checkDigits: '45',
          reference: 'w9',
        },
        {
          input: 'RF46w9',
          valid: false,
          reason: 'creditor reference RF46w9 has check digits 46 that do not match',
        },
      ]);
    },
  );
});

describe('pagopa-adapter identifier commands, in process', () => {
  test.each<[string, string[], Run]>([
    [
      'notice make, aux 3',
      ['notice', 'make', '--aux', '3', '--segregation', '02', '--base', '0320027000002'],
      ok('302032002700000251\n'),
    ],
    [
      'notice make, aux 0, prints the NAV even with --json',
      ['notice', 'make', '--aux', '0', '--application', '01', '--base', '7212650937693', '--json'],
      ok('001721265093769322\n'),
    ],
    [
      'notice parse --json',
      ['notice', 'parse', '348172725623804858', '--json'],
      ok(
        `${JSON.stringify({
          noticeNumber: '348172725623804858',
          auxDigit: 3,
          segregationCode: '48',
          iuv: '48172725623804858',
          base: '1727256238048',
          checkDigits: '58',
          checkDigitsValid: true,
        })}\n`,
      ),
    ],
    [
      'notice parse, human-readable, printed groups',
      ['notice', 'parse', '0017 2126 5093 7693 22'],
      ok(
        [
          'notice number     001721265093769322',
          'aux digit         0',
          'application code  01',
          'IUV               721265093769322',
          'base              7212650937693',
          'check digits      22 (valid)',
          '',
        ].join('\n'),
      ),
    ],
    ['rf make', ['rf', 'make', 'w9'], ok('RF45w9\n')],
    [
      'rf check, electronic and paper form',
      ['rf', 'check', 'RF45w9', 'RF18 5390 0754 7034'],
      ok('RF45w9: valid\nRF18 5390 0754 7034: valid\n'),
    ],
    ['card-code make', ['card-code', 'make', '12345'], ok('1234569\n')],
    [
      'card-code make --algorithm mod97 --json',
      ['card-code', 'make', '12345', '--algorithm', 'mod97', '--json'],
      ok('{"cardCode":"1234520","cardNumber":"12345","checkDigits":"20","algorithm":"mod97"}\n'),
    ],
    [
      'card-code check --json',
      ['card-code', 'check', '1234569', '--json'],
      ok(
        '{"cardCode":"1234569","cardNumber":"12345","checkDigits":"69","algorithm":"mod93","valid":true}\n',
      ),
    ],
    [
      'qr',
      ['qr', '302032002700000251', '81005750021', '1230'],
      ok('PAGOPA|002|302032002700000251|81005750021|1230\n'),
    ],
    [
      'qr --json',
      ['qr', '001721265093769322', '00085240950', '5', '--json'],
      ok(
        '{"qrCode":"PAGOPA|002|001721265093769322|00085240950|05","noticeNumber":"001721265093769322","creditorFiscalCode":"00085240950","amountCents":5}\n',
      ),
    ],
  ])('%s', async (_name, args, expected) => {
    expect(await inProcess(args)).toEqual(expected);
  });

  test.each<[string, string[], RegExp]>([
    [
      'a notice number with aux digit 9',
      ['notice', 'parse', '902032002700000251'],
      /^error: notice-number-invalid: .*aux digit 9/,
    ],
    [
      'notice make with aux 1',
      ['notice', 'make', '--aux', '1', '--base', '0320027000002'],
      /^error: invalid-input: --aux 1/,
    ],
    [
      'notice make aux 3 without a segregation code',
      ['notice', 'make', '--aux', '3', '--base', '0320027000002'],
      /^error: invalid-input: aux digit 3 takes --segregation/,
    ],
    [
      'notice make with a 12-digit base',
      ['notice', 'make', '--aux', '3', '--segregation', '02', '--base', '032002700000'],
      /^error: invalid-input: IUV base "032002700000" must be 13 digits/,
    ],
    [
      'a mistyped card code',
      ['card-code', 'check', '1234568'],
      /^error: card-code-invalid: card code 1234568 is mistyped/,
    ],
    [
      'an unknown card-code algorithm',
      ['card-code', 'make', '12345', '--algorithm', 'luhn'],
      /^error: invalid-input: card code algorithm "luhn"/,
    ],
    ['an RF reference too long', ['rf', 'make', '1'.repeat(22)], /^error: rf-invalid: /],
    [
      'a decimal amount for qr',
      ['qr', '302032002700000251', '81005750021', '12.30'],
      /^error: amount-invalid: .*whole cents/,
    ],
    [
      'qr with a notice whose check digits do not match',
      ['qr', '311111111112222222', '81005750021', '100'],
      /^error: notice-number-invalid: /,
    ],
    [
      'qr with a 10-digit fiscal code',
      ['qr', '302032002700000251', '8100575002', '100'],
      /^error: invalid-input: creditor fiscal code/,
    ],
  ])('%s exits 1 with a one-line reason', async (_name, args, reason) => {
    const run = await inProcess(args);
    // Nothing on stdout: a script piping the output never reads half a result.
    expect(run.stdout).toBe('');
    expect(run.code).toBe(1);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(reason);
  });
});
