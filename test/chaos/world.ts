/**
 * Builders shared by the reconciliation component tests, the chaos run and the benchmark: cards
 * with their accounts, top-ups and debt positions written straight into MariaDB (the ERP API is
 * tested elsewhere; here they are only the ground receipts land on), and the SOAP requests the
 * node would push (paSendRT, paaInviaRT) for them. Demo domain 80000000001 (fixtures/domains.demo.json).
 */
import type { Knex } from 'knex';
import { buildPaSendRtRequest, type Receipt } from '../../src/adapters/pagopa/pa-for-node';
import { buildPaaInviaRTRequest } from '../../src/adapters/pagopa/old-model-soap';
import { buildRt, type PaymentReceipt } from '../../src/adapters/pagopa/rpt-rt';

export const DOMAIN = '80000000001';
export const BROKER = '80000000099';
export const STATION = '80000000099_01';
const IBAN = 'IT60X0542811101000000123456';

export type Account = 'CANTEEN' | 'NURSERY_MEALS' | 'SCHOOL_TRANSPORT';
export type GivenCard = { cardId: number; accounts: Record<Account, number> };

/** A 17-digit IUV of segregation code 02 (aux digit 3), unique by `n` within a `run` (0..99999). */
export const iuvFor = (run: number, n: number): string =>
  `02${String(run % 100_000).padStart(5, '0')}${String(n).padStart(10, '0')}`;

/** Cards with their three accounts, inserted in bulk. */
export async function givenCards(db: Knex, count: number, tag: string): Promise<GivenCard[]> {
  const cards: GivenCard[] = [];
  for (let start = 0; start < count; start += 500) {
    const rows = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      domain_id: DOMAIN,
      card_number: `${tag}${start + i}`.slice(0, 33),
      card_code: `${tag}C${start + i}`.slice(0, 35),
      holder_fiscal_code: 'RSSMRA80A01E715X',
      holder_full_name: 'Mario Rossi',
    }));
    await db('cards').insert(rows);
    const stored = (await db('cards')
      .whereIn(
        'card_number',
        rows.map((r) => r.card_number),
      )
      .orderBy('id')
      .select('id')) as { id: number }[];
    const accounts = stored.flatMap((c) =>
      (['CANTEEN', 'NURSERY_MEALS', 'SCHOOL_TRANSPORT'] as const).map((account) => ({
        card_id: c.id,
        account,
        overdraft_limit_cents: account === 'SCHOOL_TRANSPORT' ? 100_000 : 0,
      })),
    );
    await db('card_accounts').insert(accounts);
    const accountRows = (await db('card_accounts')
      .whereIn(
        'card_id',
        stored.map((c) => c.id),
      )
      .select('id', 'card_id', 'account')) as { id: number; card_id: number; account: Account }[];
    for (const c of stored) {
      const mine = accountRows.filter((a) => Number(a.card_id) === Number(c.id));
      const byName = Object.fromEntries(mine.map((a) => [a.account, Number(a.id)])) as Record<
        Account,
        number
      >;
      cards.push({ cardId: Number(c.id), accounts: byName });
    }
  }
  return cards;
}

export type GivenPosition = {
  kind: 'TOP_UP' | 'DEBT';
  iuv: string;
  /** Transfer amounts; the option amounts to their sum. */
  transfersCents: number[];
  cardId?: number;
  account?: Account;
  /** RT model: an attempt with this CCP; otherwise a TOP_UP/CHECKOUT attempt without CCP. */
  ccp?: string;
  status?: 'OPEN' | 'CANCELLED';
  /** Minutes ago the attempt was created (recovery tests). */
  attemptAgeMs?: number;
};

/** Positions with one option, its transfers and a PENDING attempt each, inserted in bulk. */
export async function givenPositions(
  db: Knex,
  positions: readonly GivenPosition[],
): Promise<{ positionId: number; optionId: number; attemptId: number }[]> {
  const out: { positionId: number; optionId: number; attemptId: number }[] = [];
  for (let start = 0; start < positions.length; start += 500) {
    const chunk = positions.slice(start, start + 500);
    await db('debt_positions').insert(
      chunk.map((p) => ({
        domain_id: DOMAIN,
        external_id: `W-${p.iuv}`,
        kind: p.kind,
        service: p.account ?? 'NURSERY_FEE',
        card_id: p.cardId ?? null,
        account: p.account ?? null,
        debtor_type: 'F',
        debtor_fiscal_code: 'RSSMRA80A01E715X',
        debtor_full_name: 'Mario Rossi',
        description: p.kind === 'TOP_UP' ? 'Ricarica' : 'Trasporto',
        status: p.status ?? 'OPEN',
        request_hash: 'x'.repeat(64),
      })),
    );
    const ids = (await db('debt_positions')
      .where('domain_id', DOMAIN)
      .whereIn(
        'external_id',
        chunk.map((p) => `W-${p.iuv}`),
      )
      .select('id', 'external_id')) as { id: number; external_id: string }[];
    const positionOf = new Map(ids.map((r) => [r.external_id, Number(r.id)]));
    await db('payment_options').insert(
      chunk.map((p) => ({
        debt_position_id: positionOf.get(`W-${p.iuv}`),
        domain_id: DOMAIN,
        iuv: p.iuv,
        notice_number: `3${p.iuv}`,
        plan: 'SINGLE',
        amount_cents: p.transfersCents.reduce((s, c) => s + c, 0),
        due_date: '2030-12-31',
        status: p.status === 'CANCELLED' ? 'CANCELLED' : 'UNPAID',
      })),
    );
    const options = (await db('payment_options')
      .where('domain_id', DOMAIN)
      .whereIn(
        'iuv',
        chunk.map((p) => p.iuv),
      )
      .select('id', 'iuv', 'debt_position_id')) as {
      id: number;
      iuv: string;
      debt_position_id: number;
    }[];
    const optionOf = new Map(options.map((o) => [o.iuv, o]));
    await db('transfers').insert(
      chunk.flatMap((p) =>
        p.transfersCents.map((cents, i) => ({
          payment_option_id: optionOf.get(p.iuv)?.id,
          transfer_index: i + 1,
          beneficiary_fiscal_code: DOMAIN,
          amount_cents: cents,
          iban: IBAN,
          taxonomy_code: '0107101TS',
          remittance_information: `/RFB/${p.iuv}`,
        })),
      ),
    );
    await db('payment_attempts').insert(
      chunk.map((p) => {
        const o = optionOf.get(p.iuv);
        const createdAt = new Date(Date.now() - (p.attemptAgeMs ?? 0));
        return {
          payment_id: `att-${p.iuv}`,
          debt_position_id: o?.debt_position_id,
          payment_option_id: o?.id,
          channel: p.ccp !== undefined ? 'RPT' : p.kind === 'TOP_UP' ? 'TOP_UP' : 'CHECKOUT',
          status: p.status === 'CANCELLED' ? 'CANCELLED' : 'PENDING',
          amount_cents: p.transfersCents.reduce((s, c) => s + c, 0),
          ccp: p.ccp ?? null,
          created_at: createdAt,
          updated_at: createdAt,
        };
      }),
    );
    const attempts = (await db('payment_attempts')
      .whereIn(
        'payment_id',
        chunk.map((p) => `att-${p.iuv}`),
      )
      .select('id', 'payment_id')) as { id: number; payment_id: string }[];
    const attemptOf = new Map(attempts.map((a) => [a.payment_id, Number(a.id)]));
    for (const p of chunk) {
      const o = optionOf.get(p.iuv);
      out.push({
        positionId: Number(o?.debt_position_id),
        optionId: Number(o?.id),
        attemptId: attemptOf.get(`att-${p.iuv}`) ?? 0,
      });
    }
  }
  return out;
}

/** A paSendRT (new model) for a notice, one transfer per amount. */
export function paSendRtXml(input: {
  iuv: string;
  receiptId: string;
  transfersCents: readonly number[];
  outcome?: 'OK' | 'KO';
}): string {
  const amountCents = input.transfersCents.reduce((s, c) => s + c, 0);
  const receipt: Receipt = {
    receiptId: input.receiptId,
    noticeNumber: `3${input.iuv}`,
    domainFiscalCode: DOMAIN,
    outcome: input.outcome ?? 'OK',
    iuv: input.iuv,
    amountCents,
    description: 'Ricarica mensa',
    companyName: 'Comune di Borgo Verde',
    debtor: { idType: 'F', idValue: 'RSSMRA80A01E715X', fullName: 'Mario Rossi' },
    transfers: input.transfersCents.map((cents, i) => ({
      transferId: i + 1,
      amountCents: cents,
      domainFiscalCode: DOMAIN,
      iban: IBAN,
      remittanceInformation: `/RFB/${input.iuv}`,
      transferCategory: '0107101TS',
    })),
    psp: {
      id: 'POSTE3',
      companyName: 'Poste Italiane',
      channelId: '97103880585_01',
      channelDescription: 'NA',
    },
    paymentDateTime: '2026-11-20T10:00:00',
  };
  return buildPaSendRtRequest({
    version: 1,
    station: { domainId: DOMAIN, brokerId: BROKER, stationId: STATION },
    receipt,
  });
}

/** An RT document (RT model) with one line per amount; 0 is an unpaid line. */
export function rtDocument(input: {
  iuv: string;
  ccp: string;
  outcome: 0 | 1 | 2 | 3 | 4;
  linesCents: readonly number[];
}): PaymentReceipt {
  const total = input.linesCents.reduce((s, c) => s + c, 0);
  return {
    version: '6.2.0',
    domain: { domainId: DOMAIN },
    receiptMessageId: `RT-${input.ccp}`.slice(0, 35),
    receiptDateTime: '2026-11-20T10:00:00',
    requestMessageRef: `RPT-${input.ccp}`.slice(0, 35),
    requestDateRef: '2026-11-20',
    attestingPsp: { idKind: 'B', taxCode: 'BCITITMM', name: 'Banca di Prova' },
    creditor: { taxCode: DOMAIN, name: 'Comune di Borgo Verde' },
    debtor: { kind: 'F', taxCode: 'RSSMRA80A01E715X', name: 'Mario Rossi' },
    outcome: input.outcome,
    totalPaidCents: input.outcome === 1 || input.outcome === 3 ? 0 : total,
    iuv: input.iuv,
    ccp: input.ccp,
    lines:
      input.outcome === 1 || input.outcome === 3
        ? []
        : input.linesCents.map((cents, i) => ({
            paidCents: cents,
            ...(cents === 0 ? { outcomeText: 'NON ESEGUITO' } : {}),
            outcomeDate: '2026-11-20',
            iur: `IUR${input.ccp}${i}`.slice(0, 35),
            remittanceInformation: `/RFB/${input.iuv}`,
            collectionData: '9/0107102SP/',
          })),
  };
}

/** A paaInviaRT (RT model) carrying an RT document. */
export function paaInviaRtXml(rt: PaymentReceipt): string {
  return buildPaaInviaRTRequest({
    header: { brokerId: BROKER, stationId: STATION, domainId: DOMAIN, iuv: rt.iuv, ccp: rt.ccp },
    signatureType: '0',
    rtXml: buildRt(rt),
  });
}

/** POSTs a SOAP request and tells whether the answer was OK. */
export async function postSoap(url: string, body: string): Promise<{ ok: boolean; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body,
  });
  const text = await res.text();
  return { ok: res.status === 200 && /<outcome>OK<\/outcome>|<esito>OK<\/esito>/.test(text), text };
}
