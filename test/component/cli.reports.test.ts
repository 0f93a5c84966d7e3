import path from 'node:path';
import { buildReportingFlow } from '../../src/adapters/pagopa/reporting-flow';
import { storeFlowRevision } from '../../src/data-access/reporting-repository';
import { readFlow } from '../../src/domain/reconciliation/read-flow';
import { createTestDatabase } from '../helpers/db';
import { REPO_ROOT, spawnCli, waitForExit } from '../helpers/service';

/**
 * `pagopa-adapter reports ...` in a child process: the treasury import (once, audited), the
 * report as text, JSON and CSV, and `fetch` refusing without a node to ask.
 */
describe('reports CLI', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  const statement = path.join(REPO_ROOT, 'fixtures/treasury/statement-2026-11.csv');
  const DOMAIN = '80000000001';

  beforeAll(async () => {
    db = await createTestDatabase('clireports');
    env = {
      DATABASE_URL: db.url,
      DATABASE_MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'silent',
      DOMAINS_FILE: path.join(REPO_ROOT, 'fixtures/domains.demo.json'),
    };
    const xml = buildReportingFlow({
      version: '1.0',
      flowId: '2026-11-20BCITITMM-0001',
      flowDateTime: '2026-11-21T08:00:00',
      settlementId: 'TRN-0001',
      settlementDate: '2026-11-20',
      sender: { idKind: 'B', id: 'BCITITMM' },
      receiver: { taxCode: DOMAIN },
      totalCount: 1,
      totalCents: 3500,
      payments: [
        {
          iuv: '01000000000000001',
          iur: 'R1',
          amountCents: 3500,
          outcome: 9,
          outcomeDate: '2026-11-19',
        },
      ],
    });
    await storeFlowRevision(db.db, DOMAIN, readFlow(xml), xml);
  });
  afterAll(() => db.drop());

  const cli = (args: string[], extra: Record<string, string> = {}) =>
    waitForExit(spawnCli(['reports', ...args], { ...env, ...extra }));

  test('import-treasury imports once and audits; reconcile reports in text, JSON and CSV', async () => {
    const first = await cli(['import-treasury', statement, '--domain', DOMAIN, '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ kind: 'imported', movements: 5 });
    const again = await cli(['import-treasury', statement, '--domain', DOMAIN]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already imported/);
    const audit = await db.db('audit_events').where({ action: 'treasury.import' });
    expect(audit).toHaveLength(1);
    expect(String((audit[0] as { actor: string }).actor)).toMatch(/^cli:/);

    const text = await cli(['reconcile', '--from', '2026-11-20', '--to', '2026-11-20']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /2026-11-20 {2}receipts 0 \/ 0.00 {2}flows 1 \/ 35.00 {2}bank 5 \/ 164.50/,
    );
    expect(text.stdout).toMatch(
      /LINE_NO_RECEIPT\t01000000000000001\tflow 2026-11-20BCITITMM-0001 line 1/,
    );
    expect(text.stdout).toMatch(/-> paid without a receipt here/);

    const json = await cli(['reconcile', '--from', '2026-11-20', '--to', '2026-11-20', '--json']);
    const report = JSON.parse(json.stdout) as {
      lines: Record<string, number>;
      days: { mismatches: { kind: string }[] }[];
    };
    expect(report.lines).toEqual({ NO_RECEIPT: 1 });
    expect(report.days[0]?.mismatches.map((m) => m.kind)).toEqual(
      expect.arrayContaining([
        'LINE_NO_RECEIPT',
        'TRANSFER_NO_FLOW',
        'TRANSFER_NO_RECEIPT',
        'TRANSFER_UNRECOGNISED',
      ]),
    );

    const csv = await cli(['reconcile', '--from', '2026-11-20', '--to', '2026-11-20', '--csv']);
    expect(csv.stdout.split('\n')[0]).toBe('date,kind,ref,count,amount,expected,detail,action');
  });

  test('bad input exits 1 with a reason', async () => {
    const bad = await cli(['reconcile', '--from', '20-11-2026', '--to', '2026-11-20']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--from must be YYYY-MM-DD/);
    const fetch = await cli(['fetch']);
    expect(fetch.code).toBe(1);
    expect(fetch.stderr).toMatch(/NODE_BASE_URL/);
  });
});
