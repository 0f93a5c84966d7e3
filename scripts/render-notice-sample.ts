/**
 * Renders a sample payment notice to docs/payment-notice-sample.pdf and its first page to
 * docs/payment-notice-sample.png, then measures render throughput.
 *
 * Run: npx tsx scripts/render-notice-sample.ts [--plan SINGLE|INSTALLMENTS|ALTERNATIVES]
 *        [--iterations N] [--out DIR] [--page N]
 * Other plans are written as payment-notice-sample-<plan>.{pdf,png}; only the SINGLE sample is
 * committed under docs/.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  renderPaymentNotice,
  type NoticePlan,
  type PaymentNoticeModel,
} from '../src/adapters/notice-pdf/render-notice';

const repoRoot = path.resolve(__dirname, '..');

const creditor = {
  fiscalCode: '00123450789',
  name: 'Comune di Roccaverde',
  sector: 'Settore Tributi e Servizi Scolastici',
  cbillCode: 'A1B2C',
  postalAccount: {
    accountNumber: '1012345678',
    holderName: 'Comune di Roccaverde - Servizio Tesoreria',
    authorisationCode: 'PPT/0042/2026 del 12/01/2026',
  },
} as const;

const debtor = {
  fiscalCode: 'RSSMRA80A01H501U',
  fullName: 'Mario Rossi',
  address: 'Via Garibaldi 12\n00100 Roma (RM)',
} as const;

/** Sample models; notice numbers are aux-3 NAVs with valid mod-93 check digits. */
const SAMPLES: Record<NoticePlan, PaymentNoticeModel> = {
  SINGLE: {
    creditor,
    debtor,
    subject: 'Servizio mensa scolastica - anno 2025/2026 - secondo quadrimestre',
    plan: 'SINGLE',
    options: [{ noticeNumber: '302032002700000251', amountCents: 12_345, dueDate: '2026-03-31' }],
  },
  INSTALLMENTS: {
    creditor,
    debtor,
    subject: 'TARI 2026 - tassa sui rifiuti',
    plan: 'INSTALLMENTS',
    options: [
      ['301000000026010123', 10_000, '2026-04-16'],
      ['301000000026010224', 10_000, '2026-07-16'],
      ['301000000026010325', 8_733, '2026-12-16'],
    ].map(([noticeNumber, amountCents, dueDate], i) => ({
      noticeNumber: String(noticeNumber),
      amountCents: Number(amountCents),
      dueDate: String(dueDate),
      installment: { number: i + 1, of: 3 },
    })),
  },
  ALTERNATIVES: {
    creditor,
    debtor,
    subject: 'Verbale n. 123/2026 - violazione art. 7 Codice della Strada',
    plan: 'ALTERNATIVES',
    options: [
      { noticeNumber: '300715700000000032', amountCents: 2_940, dueDate: '2026-01-10' },
      { noticeNumber: '348172725623804858', amountCents: 4_200, dueDate: '2026-03-06' },
    ],
  },
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const plan = (arg('--plan') ?? 'SINGLE') as NoticePlan;
  const model = SAMPLES[plan];
  if (model === undefined) throw new Error(`unknown plan ${plan}`);
  const iterations = Number(arg('--iterations') ?? '200');
  const outDir = path.resolve(arg('--out') ?? path.join(repoRoot, 'docs'));
  const pageIndex = Number(arg('--page') ?? '1') - 1;

  const pdf = await renderPaymentNotice(model);
  const suffix = plan === 'SINGLE' ? '' : `-${plan.toLowerCase()}`;
  const pdfPath = path.join(outDir, `payment-notice-sample${suffix}.pdf`);
  const pngPath = path.join(outDir, `payment-notice-sample${suffix}.png`);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(pdfPath, pdf);

  // mupdf is an ES module with top-level await (WASM), so it is loaded with import().
  const mupdf = await import('mupdf');
  const document = mupdf.Document.openDocument(pdf, 'application/pdf');
  const page = document.loadPage(pageIndex);
  const scale = 110 / 72;
  const pixmap = page.toPixmap(mupdf.Matrix.scale(scale, scale), mupdf.ColorSpace.DeviceRGB, false);
  fs.writeFileSync(pngPath, pixmap.asPNG());

  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await renderPaymentNotice(model);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const perSecond = (iterations / elapsedMs) * 1000;
  process.stdout.write(
    `${path.relative(repoRoot, pdfPath)}: ${pdf.length} bytes, ${document.countPages()} page(s)\n` +
      `${path.relative(repoRoot, pngPath)}: page ${pageIndex + 1} at ${Math.round(scale * 72)} dpi\n` +
      `throughput (${plan}): ${perSecond.toFixed(1)} notices/s ` +
      `(${iterations} renders in ${elapsedMs.toFixed(0)} ms, one core)\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
