/**
 * A second process for test/component/iuv-sequence.test.ts: runs CALLERS concurrent allocation
 * loops against DATABASE_URL once the parent writes a line on stdin (so both processes start
 * together), then prints every base it got as one JSON array on stdout.
 */
import { createInterface } from 'node:readline';
import { createDb } from '../../src/data-access/db';
import { allocateIuvBases } from '../../src/data-access/iuv-sequence-repository';
import { allocateInBlocks } from './iuv-allocation-load';

async function main(): Promise<void> {
  const url = process.env['DATABASE_URL'] ?? '';
  const callers = Number(process.env['CALLERS']);
  const basesPerCaller = Number(process.env['BASES_PER_CALLER']);
  const domain = process.env['DOMAIN'] ?? '';
  const segregationCode = process.env['SEGREGATION_CODE'] ?? '';
  const db = createDb({ url, poolMax: callers });
  try {
    await db.raw('SELECT 1');
    const go = new Promise<void>((resolve) => {
      const lines = createInterface({ input: process.stdin });
      lines.once('line', () => {
        // An open stdin would keep this process alive after its work.
        lines.close();
        process.stdin.destroy();
        resolve();
      });
    });
    process.stdout.write('ready\n');
    await go;
    const perCaller = await Promise.all(
      Array.from({ length: callers }, (_, caller) =>
        allocateInBlocks(basesPerCaller, caller, (count) =>
          allocateIuvBases(db, { domain, auxDigit: 3, segregationCode, count }),
        ),
      ),
    );
    process.stdout.write(`${JSON.stringify(perCaller.flat())}\n`);
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `allocate-iuvs-child: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exitCode = 1;
});
