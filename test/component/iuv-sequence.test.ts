import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Knex } from 'knex';
import { makeNoticeNumber, parseNoticeNumber } from '../../src/domain/codes';
import { AppError } from '../../src/domain/errors';
import {
  allocateIuvBases,
  IUV_BLOCK_SIZE_MAX,
  type IuvSequenceKey,
} from '../../src/data-access/iuv-sequence-repository';
import { createTestDatabase } from '../helpers/db';
import { allocateInBlocks } from '../helpers/iuv-allocation-load';

/**
 * IUV bases from MariaDB: never the same base twice, whatever the concurrency.
 */
const REPO_ROOT = path.join(__dirname, '..', '..');
const DOMAIN = '00085240950';
const OTHER_DOMAIN = '81005750021';

let db: Knex;
let url: string;
let drop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase('iuv_sequence'));
});

afterAll(async () => {
  await drop?.();
});

const codeOf = async (work: Promise<unknown>): Promise<string | undefined> => {
  try {
    await work;
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : `not an AppError: ${String(err)}`;
  }
};

const seg = (segregationCode: string, domain = DOMAIN): IuvSequenceKey => ({
  domain,
  auxDigit: 3,
  segregationCode,
});

describe('allocating IUV bases', () => {
  test('a new sequence starts at 0000000000001 and hands out consecutive 13-digit bases', async () => {
    expect(await allocateIuvBases(db, { ...seg('10'), count: 1 })).toEqual(['0000000000001']);
    expect(await allocateIuvBases(db, { ...seg('10'), count: 3 })).toEqual([
      '0000000000002',
      '0000000000003',
      '0000000000004',
    ]);
    const [base = ''] = await allocateIuvBases(db, { ...seg('10'), count: 1 });
    expect(base).toBe('0000000000005');
    const nav = makeNoticeNumber({ auxDigit: 3, segregationCode: '10', base });
    expect(parseNoticeNumber(nav)).toMatchObject({ base, checkDigitsValid: true });
  });

  test('sequences of other segregation codes, other domains and aux 0 are independent', async () => {
    await allocateIuvBases(db, { ...seg('11'), count: 7 });
    expect(await allocateIuvBases(db, { ...seg('12'), count: 1 })).toEqual(['0000000000001']);
    expect(await allocateIuvBases(db, { ...seg('11', OTHER_DOMAIN), count: 1 })).toEqual([
      '0000000000001',
    ]);
    expect(await allocateIuvBases(db, { domain: DOMAIN, auxDigit: 0, count: 2 })).toEqual([
      '0000000000001',
      '0000000000002',
    ]);
    expect(await allocateIuvBases(db, { ...seg('11'), count: 1 })).toEqual(['0000000000008']);
  });

  test('aux 0 uses one sequence per domain: its IUV does not contain the application code', async () => {
    const forApp01 = await allocateIuvBases(db, { domain: OTHER_DOMAIN, auxDigit: 0, count: 2 });
    const forApp02 = await allocateIuvBases(db, { domain: OTHER_DOMAIN, auxDigit: 0, count: 2 });
    const iuvs = [
      ...forApp01.map((base) => makeNoticeNumber({ auxDigit: 0, applicationCode: '01', base })),
      ...forApp02.map((base) => makeNoticeNumber({ auxDigit: 0, applicationCode: '02', base })),
    ].map((nav) => parseNoticeNumber(nav).iuv);
    expect(new Set(iuvs).size).toBe(4);
  });

  test('a block of the largest size is allocated in one call', async () => {
    const bases = await allocateIuvBases(db, { ...seg('13'), count: IUV_BLOCK_SIZE_MAX });
    expect(bases).toHaveLength(IUV_BLOCK_SIZE_MAX);
    expect(bases[0]).toBe('0000000000001');
    expect(bases.at(-1)).toBe(String(IUV_BLOCK_SIZE_MAX).padStart(13, '0'));
  });

  test('when the 13-digit space runs out, the call fails clearly and allocates nothing', async () => {
    await allocateIuvBases(db, { ...seg('14'), count: 1 });
    // An operator-made state: the sequence is 3 bases from the end.
    await db('iuv_sequences')
      .where({ domain_id: DOMAIN, aux_digit: 3, segregation_code: '14' })
      .update({ next_base: 9_999_999_999_997 });

    const error = await allocateIuvBases(db, { ...seg('14'), count: 4 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'conflict' });
    expect((error as Error).message).toMatch(/exhausted: 3 left, 4 asked/);

    expect(await allocateIuvBases(db, { ...seg('14'), count: 3 })).toEqual([
      '9999999999997',
      '9999999999998',
      '9999999999999',
    ]);
    expect(await codeOf(allocateIuvBases(db, { ...seg('14'), count: 1 }))).toBe('conflict');
  });

  test("inside the caller's transaction, a rollback gives the bases back", async () => {
    await allocateIuvBases(db, { ...seg('15'), count: 2 });
    await db
      .transaction(async (trx) => {
        expect(await allocateIuvBases(trx, { ...seg('15'), count: 5 })).toHaveLength(5);
        throw new Error('the caller fails after allocating');
      })
      .catch(() => undefined);
    expect(await allocateIuvBases(db, { ...seg('15'), count: 1 })).toEqual(['0000000000003']);
  });

  test.each([
    [{ ...seg('16'), count: 0 }],
    [{ ...seg('16'), count: -1 }],
    [{ ...seg('16'), count: 1.5 }],
    [{ ...seg('16'), count: IUV_BLOCK_SIZE_MAX + 1 }],
    [{ ...seg('6'), count: 1 }],
    [{ ...seg('16', '1234567890'), count: 1 }],
  ])('%j is refused with invalid-input', async (request) => {
    expect(await codeOf(allocateIuvBases(db, request))).toBe('invalid-input');
  });
});

describe('allocating IUV bases under concurrency', () => {
  test('10,000 bases taken by 20 concurrent callers in two processes are all distinct', async () => {
    const CALLERS_PER_PROCESS = 10;
    const BASES_PER_CALLER = 500;
    const SEGREGATION_CODE = '20';
    const child = spawn(
      path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
      [path.join(REPO_ROOT, 'test', 'helpers', 'allocate-iuvs-child.ts')],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/tmp',
          DATABASE_URL: url,
          CALLERS: String(CALLERS_PER_PROCESS),
          BASES_PER_CALLER: String(BASES_PER_CALLER),
          DOMAIN,
          SEGREGATION_CODE,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (): void => {
        if (stdout.startsWith('ready\n')) {
          child.stdout.off('data', onData);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      void exited.then(() => reject(new Error(`child exited before ready: ${stderr}`)));
    });
    await ready;

    // Both processes start together: the child on its "go" line, the parent right after.
    child.stdin.end('go\n');
    const parentBases = (
      await Promise.all(
        Array.from({ length: CALLERS_PER_PROCESS }, (_, caller) =>
          allocateInBlocks(BASES_PER_CALLER, caller, (count) =>
            allocateIuvBases(db, { ...seg(SEGREGATION_CODE), count }),
          ),
        ),
      )
    ).flat();
    expect(await exited).toBe(0);
    const childBases = JSON.parse(stdout.slice('ready\n'.length)) as string[];

    expect(parentBases).toHaveLength(5_000);
    expect(childBases).toHaveLength(5_000);
    const all = [...parentBases, ...childBases];
    expect(all.every((b) => /^\d{13}$/.test(b))).toBe(true);
    expect(new Set(all).size).toBe(10_000);
    // Both processes really interleaved: each got bases from the first and the last thousand.
    for (const bases of [parentBases, childBases]) {
      expect(bases.some((b) => Number(b) <= 1_000)).toBe(true);
      expect(bases.some((b) => Number(b) > 9_000)).toBe(true);
    }
  }, 120_000);
});
