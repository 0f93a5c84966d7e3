import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ERP } from './api';
import { createTestDatabase } from './db';
import { REPO_ROOT, startTestService, testConfig } from './service';
import type { Db } from '../../src/data-access/db';
import { addDays, romeDate } from '../../src/domain/positions/dates';

/**
 * The notice doors (verify, get payment, demand, paaVerificaRPT, paaAttivaRPT) as the node uses
 * them: the whole service ('all') on a schema of its own, positions created through the ERP API,
 * then real XML from fixtures/soap/verify posted to the SOAP port.
 */

export const DOMAIN = '80000000001';
const VERIFY = path.join(REPO_ROOT, 'fixtures', 'soap', 'verify');

/** A fixture with its `__NAME__` placeholders replaced; an unfilled placeholder is a test bug. */
export function fixture(name: string, vars: Record<string, string> = {}): string {
  let xml = fs.readFileSync(path.join(VERIFY, name), 'utf8');
  for (const [key, value] of Object.entries(vars)) xml = xml.replaceAll(`__${key}__`, value);
  const left = /__[A-Z_]+__/.exec(xml.replace(/<!--[\s\S]*?-->/g, ''));
  if (left !== null) throw new Error(`${name}: placeholder ${left[0]} not filled`);
  return xml;
}

export type NoticeService = {
  soap: string;
  api: string;
  db: Db;
  stop: () => Promise<void>;
};

export async function startNoticeService(
  name: string,
  env: Record<string, string> = {},
): Promise<NoticeService> {
  const database = await createTestDatabase(name);
  const service = await startTestService(
    testConfig({
      DATABASE_URL: database.url,
      DATABASE_MIGRATE_ON_START: 'false',
      QUEUE_PREFIX: `t-${name.replace(/[^a-z0-9]/gi, '')}-${process.pid}`.slice(0, 32),
      ...env,
    }),
    'all',
  );
  return {
    soap: `http://127.0.0.1:${service.ports.soap}`,
    api: `http://127.0.0.1:${service.ports.api}`,
    db: database.db,
    stop: async () => {
      await service.stop();
      await database.drop();
    },
  };
}

export async function postSoap(
  url: string,
  body: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body,
  });
  return { status: res.status, text: await res.text() };
}

export type CreatedOption = {
  iuv: string;
  noticeNumber: string;
  amountCents: number;
  amountInForceCents: number;
  dueDate: string;
};

let nextPosition = 0;

/** PUT /api/v1/debt-positions/{externalId} with the ERP key; answers the options created. */
export async function givenPosition(
  api: string,
  body: Record<string, unknown>,
): Promise<{ externalId: string; options: CreatedOption[] }> {
  nextPosition += 1;
  const externalId = `soap-notice-${process.pid}-${nextPosition}`;
  const res = await request(api).put(`/api/v1/debt-positions/${externalId}`).set(ERP).send(body);
  if (res.status !== 201) throw new Error(`PUT ${externalId}: ${res.status} ${res.text}`);
  return {
    externalId,
    options: (res.body as { paymentOptions: CreatedOption[] }).paymentOptions,
  };
}

/** The ERP's fixture fixtures/erp/<name>, as a request body. */
export const erpFixture = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'erp', name), 'utf8')) as Record<
    string,
    unknown
  >;

export async function count(db: Db, table: string, where: Record<string, unknown> = {}) {
  const row = (await db(table).where(where).count({ n: '*' }).first()) as
    { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/**
 * A road fine notified `daysAgo` days ago (Rome calendar): 29.40 within 5 days of notification,
 * 42.00 after, payable for 60 days.
 */
export function roadFine(daysAgo: number): Record<string, unknown> {
  const today = romeDate(new Date());
  return {
    ...erpFixture('road-fine-with-reduction.json'),
    paymentOptions: [
      {
        amountCents: 4200,
        dueDate: addDays(today, 60 - daysAgo),
        validFrom: addDays(today, -daysAgo),
        amountSchedule: [{ until: addDays(today, 5 - daysAgo), amountCents: 2940 }],
      },
    ],
  };
}
