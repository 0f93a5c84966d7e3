/**
 * A reporting flow of N lines (default 20,000): built with the codec, its receipts stored, then
 * read (parse + totals), stored (flow + lines), and matched (load from MariaDB + pure matcher),
 * with timings, RSS, and a baseline in the same run: the raw fast-xml-parser parse of the same
 * document. Target: parse + store + match under 10 s.
 *
 * Run: npx tsx bench/reporting-flow.ts [lines, default 20000]
 * Uses a throw-away database on BENCH_DATABASE_URL (default mysql://root@127.0.0.1:3306).
 */
import { randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { buildReportingFlow, type ReportingFlow } from '../src/adapters/pagopa/reporting-flow';
import { createDb, ensureDatabase, migrateLatest } from '../src/data-access/db';
import {
  loadReconciliationInput,
  storeFlowRevision,
} from '../src/data-access/reporting-repository';
import { readFlow } from '../src/domain/reconciliation/read-flow';
import { reconcile } from '../src/domain/reconciliation/report';

const LINES = Number(process.argv[2] ?? 20_000);
const SERVER_URL = process.env['BENCH_DATABASE_URL'] ?? 'mysql://root@127.0.0.1:3306';
const DOMAIN = '77777777777';

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const mb = (): number => Math.round(process.memoryUsage().rss / 1024 / 1024);

async function main(): Promise<void> {
  const schema = `bench_reporting_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER_URL}/${schema}`;
  await ensureDatabase(url);
  const db = createDb({ url, poolMax: 4 });
  try {
    await migrateLatest(db);
    const payments = Array.from({ length: LINES }, (_, i) => ({
      iuv: `01${String(i).padStart(15, '0')}`,
      iur: `RCPT-${i}`,
      transferIndex: 1,
      amountCents: 1000 + (i % 500),
      outcome: 0 as const,
      outcomeDate: '2026-11-19',
    }));
    const flow: ReportingFlow = {
      version: '1.0',
      flowId: '2026-11-20BCITITMM-BENCH',
      flowDateTime: '2026-11-21T08:00:00',
      settlementId: 'TRN-BENCH',
      settlementDate: '2026-11-20',
      sender: { idKind: 'B', id: 'BCITITMM' },
      receiver: { taxCode: DOMAIN },
      totalCount: LINES,
      totalCents: payments.reduce((s, p) => s + p.amountCents, 0),
      payments,
    };
    const xml = buildReportingFlow(flow);
    // Receipts for all lines but the last 1% (NO_RECEIPT), one in 200 with another amount.
    const receipts = payments.slice(0, Math.floor(LINES * 0.99)).map((p, i) => {
      const amount = i % 200 === 0 ? p.amountCents + 1 : p.amountCents;
      return {
        domain_id: DOMAIN,
        iuv: p.iuv,
        receipt_key: p.iur,
        source: 'PA_SEND_RT',
        outcome: 'PAID',
        amount_cents: amount,
        paid_at: new Date('2026-11-19T10:00:00Z'),
        payload_hash: 'bench',
        raw_xml: '<bench/>',
        parsed: JSON.stringify({ transfers: [{ transferId: 1, amountCents: amount }] }),
      };
    });
    for (let i = 0; i < receipts.length; i += 2_000) {
      await db('receipts').insert(receipts.slice(i, i + 2_000));
    }

    let t0 = process.hrtime.bigint();
    new XMLParser({ removeNSPrefix: true }).parse(xml);
    const baselineMs = ms(t0);

    const total0 = process.hrtime.bigint();
    t0 = process.hrtime.bigint();
    const read = readFlow(xml);
    const parseMs = ms(t0);
    t0 = process.hrtime.bigint();
    await storeFlowRevision(db, DOMAIN, read, xml);
    const storeMs = ms(t0);
    t0 = process.hrtime.bigint();
    const input = await loadReconciliationInput(db, {
      domainId: DOMAIN,
      from: '2026-11-19',
      to: '2026-11-20',
      asOf: '2026-11-23',
    });
    const loadMs = ms(t0);
    t0 = process.hrtime.bigint();
    const report = reconcile(input);
    const matchMs = ms(t0);
    const totalMs = ms(total0);

    const outcomes: Record<string, number> = {};
    for (const m of report.lineMatches) outcomes[m.outcome] = (outcomes[m.outcome] ?? 0) + 1;
    process.stdout.write(
      JSON.stringify(
        {
          lines: LINES,
          xmlBytes: xml.length,
          baselineFastXmlParserMs: Math.round(baselineMs),
          parseMs: Math.round(parseMs),
          storeMs: Math.round(storeMs),
          loadMs: Math.round(loadMs),
          matchMs: Math.round(matchMs),
          totalMs: Math.round(totalMs),
          rssMb: mb(),
          outcomes,
          underTenSeconds: totalMs < 10_000,
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await db.raw(`DROP DATABASE IF EXISTS \`${schema}\``);
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
