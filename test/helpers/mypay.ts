import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import type { MyPayDues, MyPayPaid } from '../../src/adapters/mypay/documents';
import {
  createNodeClient,
  createNodeTransport,
  MyPayNodeClient,
  WsdlCatalog,
} from '../../src/adapters/node-client';
import { WSDL_DIR } from '../../src/entry-points/soap/soap-server';
import { loadDomains } from '../../src/shared/domains-config';
import { REPO_ROOT } from './service';

/** The demo's MyPay municipality (Comune di Porto Chiaro). */
export const MYPAY_DOMAIN = '80000000002';
export const MYPAY_IPA_CODE = 'C_PCHIARO';

/**
 * The demo domains with the MyPay municipality's IPA code (codIpaEnte), which its client needs,
 * written to a temporary file for DOMAINS_FILE (one per test process, rewritten by each call).
 */
export function myPayDomainsFile(): string {
  const demo = JSON.parse(
    fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'domains.demo.json'), 'utf8'),
  ) as { domains: { fiscalCode: string; mypayIpaCode?: string }[] };
  for (const d of demo.domains) if (d.fiscalCode === MYPAY_DOMAIN) d.mypayIpaCode = MYPAY_IPA_CODE;
  const file = path.join(os.tmpdir(), `domains.mypay.${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(demo));
  return file;
}

/** The adapter's own MyPay client, for the domain, against `baseUrl` (the simulator). */
export function myPayClient(baseUrl: string, domainsFile: string): MyPayNodeClient {
  const settings = {
    nodeBaseUrl: undefined,
    checkoutBaseUrl: undefined,
    nodeRestBaseUrl: undefined,
    mypayBaseUrl: baseUrl,
    nodeTimeoutMs: 5_000,
    nodeRetryAttemptsMax: 1,
    nodeRetryBackoffBaseMs: 1,
    nodeCircuitFailuresMax: 50,
    nodeCircuitOpenMs: 30_000,
    nodeTls: {},
  };
  const domain = loadDomains(domainsFile).find(MYPAY_DOMAIN);
  if (domain === undefined) throw new Error('no MyPay domain');
  const client = createNodeClient(domain, {
    settings,
    transport: createNodeTransport(settings, { registry: new Registry() }),
    wsdl: WsdlCatalog.load(WSDL_DIR),
    env: {},
  });
  if (!(client instanceof MyPayNodeClient)) throw new Error('expected the MyPay client');
  return client;
}

/** Dues paying one option (its IUV), as a MyPay payment of a top-up or a debt would send. */
export function duesFor(iuv: string, amountCents: number, dueId: string): MyPayDues {
  return {
    payer: { kind: 'F', taxCode: 'RSSMRA85T10A562S', name: 'Rossi Mario' },
    iuv,
    items: [
      {
        dueId,
        amountCents,
        dueTypeCode: 'MENSA_SCOLASTICA',
        remittanceInformation: `Pagamento ${dueId}`,
        collectionData: '9/0107101TS/',
      },
    ],
  };
}

/** A paid (outcome 0) Pagati for one IUV, with fresh MyPay identifiers unless given. */
export function paidPagati(
  iuv: string,
  amountCents: number,
  overrides: Partial<MyPayPaid> = {},
): MyPayPaid {
  const now = new Date().toISOString().slice(0, 19);
  return {
    domainId: MYPAY_DOMAIN,
    receiptMessageId: randomBytes(12).toString('hex'),
    receiptDateTime: now,
    requestMessageRef: randomBytes(12).toString('hex'),
    requestDateRef: now.slice(0, 10),
    attestingPsp: { idKind: 'G', id: '00000000001', name: 'Simulated PSP' },
    creditor: { taxCode: MYPAY_DOMAIN, name: 'Comune di Porto Chiaro (demo)' },
    payer: { kind: 'F', taxCode: 'RSSMRA85T10A562S', name: 'Rossi Mario' },
    outcome: 0,
    totalPaidCents: amountCents,
    iuv,
    ccp: 'n/a',
    lines: [
      {
        dueId: `DUE-${iuv}`,
        paidCents: amountCents,
        outcomeText: 'ESEGUITO',
        outcomeDate: now.slice(0, 10),
        iur: `IUR${randomBytes(8).toString('hex')}`,
        remittanceInformation: 'Pagamento',
        collectionData: '9/0107102SP/',
      },
    ],
    ...overrides,
  };
}
