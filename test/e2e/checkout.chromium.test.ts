import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Queue } from 'bullmq';
import { QUEUES } from '../../src/adapters/queues';
import { ensureDemoCards } from '../../src/simulator/demo-data';
import { loadDomains } from '../../src/shared/domains-config';
import { createLogger } from '../../src/shared/logger';
import { describeWithChromium, launchChromium } from '../helpers/chromium';
import { ERP } from '../helpers/api';
import { createTestDatabase } from '../helpers/db';
import { eventually, startTestService, testConfig, REPO_ROOT } from '../helpers/service';

/**
 * The demo's checkout in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * the ERP starts a top-up, the browser opens its checkoutUrl (the simulator's page), clicks
 * "Pay", lands on the return URL with the outcome hint, and the card's balance shows the credit.
 * Skipped, saying so, where no Chromium is installed. With CONSOLE_SCREENSHOTS=1 it also writes
 * the README's screenshots (docs/checkout-page.png, docs/api-docs.png).
 */

const screenshots = process.env['CONSOLE_SCREENSHOTS'] === '1';
const QUEUE_PREFIX = `t-checkout-e2e-${process.pid}`;

describeWithChromium('demo checkout page in headless Chromium', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let browser: Browser;
  let page: Page;
  let api: string;
  let sim: string;
  let cardCode: string;

  const balance = async (): Promise<number> => {
    const res = await fetch(`${api}/api/v1/cards/${cardCode}`, { headers: ERP });
    const card = (await res.json()) as { accounts: { account: string; balanceCents: number }[] };
    return card.accounts.find((a) => a.account === 'CANTEEN')?.balanceCents ?? NaN;
  };

  beforeAll(async () => {
    database = await createTestDatabase('checkout_e2e');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX,
        RECONCILE_BACKOFF_BASE_MS: '50',
      }),
      'all',
    );
    api = `http://127.0.0.1:${service.ports.api}`;
    sim = `http://127.0.0.1:${service.ports.simulator}`;
    const codes = await ensureDemoCards(
      database.db,
      loadDomains(path.join(REPO_ROOT, 'fixtures', 'domains.demo.json')),
      createLogger('silent'),
    );
    cardCode = codes[0] ?? '';
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    const queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: QUEUE_PREFIX,
    });
    await queue.obliterate({ force: true });
    await queue.close();
    await database?.drop();
  });

  test('open the checkoutUrl of a top-up, click "Pay", come back with the outcome, see the balance change', async () => {
    const before = await balance();
    const res = await fetch(`${api}/api/v1/cards/${cardCode}/top-ups`, {
      method: 'POST',
      headers: {
        ...ERP,
        'content-type': 'application/json',
        'Idempotency-Key': `checkout-e2e-${process.pid}`,
      },
      body: JSON.stringify({
        account: 'CANTEEN',
        amountCents: 2500,
        payer: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
        returnUrl: `${sim}/sim/returned`,
      }),
    });
    expect(res.status).toBe(201);
    const { checkoutUrl, noticeNumber } = (await res.json()) as {
      checkoutUrl: string;
      noticeNumber: string;
    };

    await page.goto(checkoutUrl);
    expect(await page.textContent('table')).toContain(noticeNumber);
    expect(await page.textContent('#pay')).toBe('Pay € 25,00');
    if (screenshots) {
      await page.screenshot({ path: path.join(REPO_ROOT, 'docs', 'checkout-page.png') });
    }
    await page.click('#pay');
    await page.waitForURL(`${sim}/sim/returned?outcome=OK**`);
    expect(await page.textContent('#outcome')).toContain('OK');

    expect(await eventually(async () => (await balance()) === before + 2500, 5_000, 50)).toBe(true);

    // Back on the page, the session is over: no buttons any more.
    await page.goto(checkoutUrl);
    expect(await page.textContent('#state')).toBe('This payment is PAID.');
    if (screenshots) {
      await page.goto(`${api}/docs`);
      await page.waitForSelector('.opblock', { timeout: 10_000 });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({ path: path.join(REPO_ROOT, 'docs', 'api-docs.png') });
    }
  }, 60_000);
});
