import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Queue } from 'bullmq';
import { QUEUES } from '../../src/adapters/queues';
import { describeWithChromium, launchChromium } from '../helpers/chromium';
import { createTestDatabase } from '../helpers/db';
import { startTestService, testConfig, REPO_ROOT } from '../helpers/service';
import { givenCards, iuvFor, type GivenCard } from '../chaos/world';
import { balanceOf, givenFailedTopUpReceipt } from '../component/ops.fixtures';

/**
 * The console in a real headless Chromium (Debian's `chromium`, driven by playwright-core; no
 * browser download): log in, filter FAILED receipts, open one, replay it with a reason, see it
 * RECONCILED and the audit line appear. Skipped, saying so, where no Chromium is installed.
 * With CONSOLE_SCREENSHOTS=1 it also writes the README's screenshots to docs/.
 */

const screenshots = process.env['CONSOLE_SCREENSHOTS'] === '1';
const QUEUE_PREFIX = `t-console-e2e-${process.pid}`;
const RUN = (process.pid % 90_000) + 10_000;

describeWithChromium('operations console in headless Chromium', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let browser: Browser;
  let page: Page;
  let base: string;
  let card: GivenCard;

  const shot = async (name: string): Promise<void> => {
    if (screenshots)
      await page.screenshot({
        path: path.join(REPO_ROOT, 'docs', `console-${name}.png`),
        fullPage: false,
      });
  };

  beforeAll(async () => {
    database = await createTestDatabase('console_e2e');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX,
        RECONCILE_BACKOFF_BASE_MS: '50',
      }),
      'all',
    );
    base = `http://127.0.0.1:${service.ports.api}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    [card] = (await givenCards(database.db, 1, `ce${RUN}`)) as [GivenCard];
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

  test('log in, filter FAILED receipts, open one, replay it with a reason, see it RECONCILED and audited', async () => {
    const ids: number[] = [];
    for (let i = 1; i <= 3; i += 1) {
      ids.push(
        await givenFailedTopUpReceipt(database.db, {
          iuv: iuvFor(RUN + 3, i),
          cardId: card.cardId,
          account: 'CANTEEN',
          amountCents: 1000 + i * 250,
          reason:
            'dependency-down: gave up after 8 attempt(s): connect ECONNREFUSED 127.0.0.1:3306',
        }),
      );
    }
    const id = ids[1] ?? 0;
    const before = await balanceOf(database.db, card.accounts.CANTEEN);

    await page.goto(`${base}/ops/`);
    await page.waitForURL('**/ops/login');
    await page.fill('input[name="key"]', 'dev-operator-key');
    await shot('login');
    await page.click('button[type="submit"]');
    await page.waitForURL('**/ops/receipts');

    await page.selectOption('#filters select[name="state"]', 'FAILED');
    await page.click('#filters button[type="submit"]');
    await page.waitForURL('**/ops/receipts?state=FAILED**');
    const rows = page.locator('#receipts tbody tr');
    expect(await rows.count()).toBe(3);
    await shot('receipts-failed');

    await page.click(`#receipts a[href="/ops/receipts/${id}"]`);
    await page.waitForURL(`**/ops/receipts/${id}`);
    expect(await page.textContent('#state')).toBe('FAILED');
    await page.fill('#replay input[name="reason"]', 'database back after the outage');
    await shot('receipt-failed');
    await page.click('#replay button[value="true"]');
    await page.waitForURL(`**/ops/receipts/${id}`);

    // The worker reconciles it in the background: reload until the page says so.
    let state = '';
    for (let i = 0; i < 50 && state !== 'RECONCILED'; i += 1) {
      await page.reload();
      state = (await page.textContent('#state')) ?? '';
      if (state !== 'RECONCILED') await new Promise((r) => setTimeout(r, 200));
    }
    expect(state).toBe('RECONCILED');
    const auditRows = await page.locator('#audit tr').allTextContents();
    expect(
      auditRows.some(
        (t) =>
          t.includes('console:demo-operator') &&
          t.includes('receipt.replay') &&
          t.includes('database back after the outage'),
      ),
    ).toBe(true);
    expect(await balanceOf(database.db, card.accounts.CANTEEN)).toBe(before + 1500);
    await shot('receipt-reconciled');

    await page.click('header a[href="/ops/audit"]');
    await page.waitForURL('**/ops/audit');
    expect(await page.locator('#audit').textContent()).toContain(`receipt ${id}`);
    await shot('audit');
    if (screenshots) {
      await page.goto(`${base}/ops/queues`);
      await page.waitForLoadState('networkidle');
      await shot('queues');
    }
  }, 60_000);
});
