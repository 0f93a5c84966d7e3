import request from 'supertest';
import {
  PA_FOR_NODE_NS,
  parsePaGetPaymentResponse,
  type PaGetPaymentResponse,
} from '../../src/adapters/pagopa/pa-for-node';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import { ERP } from '../helpers/api';
import {
  DOMAIN,
  count,
  erpFixture,
  fixture,
  givenPosition,
  roadFine,
  postSoap,
  startNoticeService,
  type NoticeService,
} from '../helpers/notice-soap';
import { ownWsdlSchema, validateSoapBody } from '../helpers/xsd';

/**
 * paGetPayment (V1) and paGetPaymentV2 through the real door: the payment data of today, postal
 * accounts on request, the marca da bollo in V2 only, and the activation recorded once as a
 * PENDING NOTICE attempt.
 */

const today = romeDate(new Date());
const paForNode = ownWsdlSchema('paForNode.wsdl', PA_FOR_NODE_NS);
const IBAN = 'IT60X0542811101000000123456';
const POSTAL_IBAN = 'IT57N0760111100000012345678';

type Ok = Extract<PaGetPaymentResponse, { outcome: 'OK' }>;

async function getPayment(
  svc: NoticeService,
  name: string,
  noticeNumber: string,
  edit: (xml: string) => string = (x) => x,
): Promise<{ text: string; res: PaGetPaymentResponse & { version: 1 | 2 } }> {
  const { status, text } = await postSoap(
    `${svc.soap}/pagopa/paForNode`,
    edit(fixture(name, { NOTICE_NUMBER: noticeNumber })),
  );
  expect(status).toBe(200);
  expect(await validateSoapBody(text, paForNode)).toEqual({ valid: true, errors: [] });
  return { text, res: parsePaGetPaymentResponse(text) };
}

const okOf = (res: PaGetPaymentResponse): Ok => {
  if (res.outcome !== 'OK') throw new Error(`expected OK, got ${JSON.stringify(res)}`);
  return res;
};

const faultOf = (res: PaGetPaymentResponse) => {
  if (res.outcome !== 'KO' || res.fault === undefined) throw new Error('expected a KO answer');
  return res.fault;
};

describe('paGetPayment / paGetPaymentV2', () => {
  let svc: NoticeService;

  beforeAll(async () => {
    svc = await startNoticeService('soap_get_payment');
  });
  afterAll(async () => {
    await svc.stop();
  });

  const noticeAttempts = (iuv: string) =>
    svc
      .db('payment_attempts as a')
      .join('payment_options as o', 'o.id', 'a.payment_option_id')
      .where({ 'o.iuv': iuv, 'o.domain_id': DOMAIN })
      .select('a.channel', 'a.status', 'a.amount_cents', 'a.ccp') as Promise<
      { channel: string; status: string; amount_cents: number; ccp: string | null }[]
    >;

  test('V1: a road fine at its reduced amount, with the IUV, debtor, taxonomy and metadata', async () => {
    const { externalId, options } = await givenPosition(svc.api, roadFine(2));
    const option = options[0]!;
    const { res } = await getPayment(svc, 'pa-get-payment.xml', option.noticeNumber);
    expect(res.version).toBe(1);
    expect(okOf(res).payment).toEqual({
      iuv: option.iuv,
      amountCents: 2940,
      dueDate: addDays(today, 58),
      description: 'Verbale n. 2026/004512 del 02/12/2026 - art. 7 CdS',
      companyName: 'Comune di Borgo Verde (demo)',
      officeName: 'Servizi scolastici',
      debtor: {
        idType: 'F',
        idValue: 'VRDGNN75C12E715K',
        fullName: 'Verdi Giovanni',
        email: 'g.verdi@example.org',
      },
      transfers: [
        {
          transferId: 1,
          amountCents: 2940,
          domainFiscalCode: DOMAIN,
          iban: IBAN,
          remittanceInformation: `/RFB/${option.iuv}/TXT/Verbale n. 2026/004512 del 02/12/2026 - art. 7 CdS`,
          transferCategory: '0102100SA',
        },
      ],
      metadata: [
        { key: 'serviceCode', value: 'ROAD_FINE' },
        { key: 'debtPositionId', value: externalId },
      ],
    });
  });

  test('activation is recorded once: a PENDING NOTICE attempt at the amount answered, however often the node asks', async () => {
    const { options } = await givenPosition(svc.api, roadFine(1));
    const option = options[0]!;
    await getPayment(svc, 'pa-get-payment.xml', option.noticeNumber);
    await getPayment(svc, 'pa-get-payment-v2.xml', option.noticeNumber);
    const { res } = await getPayment(svc, 'pa-get-payment.xml', option.noticeNumber);
    expect(okOf(res).payment.amountCents).toBe(2940);
    expect(await noticeAttempts(option.iuv)).toEqual([
      { channel: 'NOTICE', status: 'PENDING', amount_cents: 2940, ccp: null },
    ]);
  });

  test('transferType POSTAL gives the postal IBAN where the transfer has one; PAGOPA the bank IBAN', async () => {
    const { options } = await givenPosition(svc.api, {
      ...erpFixture('road-fine-alternatives.json'),
      plan: 'SINGLE',
      paymentOptions: [{ amountCents: 3500, dueDate: addDays(today, 30) }],
      transfers: [{ amountCents: 3500, iban: IBAN, postalIban: POSTAL_IBAN }],
    });
    const postal = await getPayment(svc, 'pa-get-payment.postal.xml', options[0]!.noticeNumber);
    expect(okOf(postal.res).payment.transfers.map((t) => t.iban)).toEqual([POSTAL_IBAN]);
    const bank = await getPayment(svc, 'pa-get-payment-v2.xml', options[0]!.noticeNumber);
    expect(okOf(bank.res).payment.transfers.map((t) => t.iban)).toEqual([IBAN]);
  });

  test('V2 carries the marca da bollo as richiestaMarcaDaBollo next to the IBAN transfer', async () => {
    const { options } = await givenPosition(svc.api, erpFixture('nursery-fee-with-stamp.json'));
    const { res } = await getPayment(svc, 'pa-get-payment-v2.xml', options[0]!.noticeNumber);
    expect(res.version).toBe(2);
    const payment = okOf(res).payment;
    expect(payment.amountCents).toBe(6600);
    expect(payment.transfers).toEqual([
      expect.objectContaining({ transferId: 1, amountCents: 5000, iban: IBAN }),
      expect.objectContaining({
        transferId: 2,
        amountCents: 1600,
        stamp: {
          hashDocument: 'ZmFrZS1kb2N1bWVudC1oYXNoLXNoYTI1Ng==',
          stampType: '01',
          provincialResidence: 'LU',
        },
        transferCategory: '0107106SP',
      }),
    ]);
  });

  test('V1 for a notice with a marca da bollo is PAA_SEMANTICA telling the node to use V2, and records nothing', async () => {
    const { options } = await givenPosition(svc.api, erpFixture('nursery-fee-with-stamp.json'));
    const { res } = await getPayment(svc, 'pa-get-payment.xml', options[0]!.noticeNumber);
    expect(faultOf(res)).toMatchObject({
      faultCode: 'PAA_SEMANTICA',
      id: DOMAIN,
      description: expect.stringMatching(/marca da bollo.*paGetPaymentV2/),
    });
    expect(await noticeAttempts(options[0]!.iuv)).toEqual([]);
  });

  describe('faults, with nothing recorded', () => {
    const expectFault = async (
      noticeNumber: string,
      faultCode: string,
      description: RegExp,
      opts: { name?: string; edit?: (xml: string) => string } = {},
    ) => {
      const attemptsBefore = await count(svc.db, 'payment_attempts');
      const { text, res } = await getPayment(
        svc,
        opts.name ?? 'pa-get-payment.xml',
        noticeNumber,
        opts.edit,
      );
      expect(faultOf(res)).toMatchObject({
        faultCode,
        id: DOMAIN,
        description: expect.stringMatching(description),
      });
      expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
      expect(await count(svc.db, 'payment_attempts')).toBe(attemptsBefore);
    };

    test('unknown notice: PAA_PAGAMENTO_SCONOSCIUTO', async () => {
      await expectFault('302999999999999998', 'PAA_PAGAMENTO_SCONOSCIUTO', /is unknown/);
    });

    test('paid: PAA_PAGAMENTO_DUPLICATO', async () => {
      const { externalId, options } = await givenPosition(svc.api, roadFine(8));
      await request(svc.api)
        .post(`/api/v1/debt-positions/${externalId}/offline-payments`)
        .set(ERP)
        .send({
          amountCents: 4200,
          channel: 'POSTAL_SLIP',
          reference: `slip-${externalId}`,
          paidAt: new Date().toISOString(),
        })
        .expect(201);
      await expectFault(options[0]!.noticeNumber, 'PAA_PAGAMENTO_DUPLICATO', /already paid/);
    });

    test('cancelled: PAA_PAGAMENTO_ANNULLATO', async () => {
      const { externalId, options } = await givenPosition(svc.api, roadFine(1));
      await request(svc.api).delete(`/api/v1/debt-positions/${externalId}`).set(ERP).expect(200);
      await expectFault(options[0]!.noticeNumber, 'PAA_PAGAMENTO_ANNULLATO', /cancelled/);
    });

    test('a top-up past its validity: PAA_PAGAMENTO_SCADUTO', async () => {
      const card = await request(svc.api)
        .post('/api/v1/cards')
        .set(ERP)
        .send({ ...erpFixture('register-card.ok.json'), cardNumber: '4202800001' })
        .expect(201);
      const topUp = await request(svc.api)
        .post(`/api/v1/cards/${(card.body as { cardCode: string }).cardCode}/top-ups`)
        .set(ERP)
        .set('Idempotency-Key', `get-payment-expired-${process.pid}`)
        .send(erpFixture('top-up.ok.json'))
        .expect(201);
      const { iuv, noticeNumber } = topUp.body as { iuv: string; noticeNumber: string };
      const { res } = await getPayment(svc, 'pa-get-payment.xml', noticeNumber);
      expect(okOf(res).payment.amountCents).toBe(2500);
      // Arrange: 31 days later, the top-up's validity (TOP_UP_VALIDITY_DAYS) has passed.
      await svc
        .db('payment_options')
        .where({ domain_id: DOMAIN, iuv })
        .update({ due_date: addDays(today, -1) });
      await expectFault(noticeNumber, 'PAA_PAGAMENTO_SCADUTO', /card top-up valid until/);
    });

    test('a transferType outside POSTAL|PAGOPA: PAA_SINTASSI_EXTRAXSD', async () => {
      const { options } = await givenPosition(svc.api, roadFine(1));
      await expectFault(options[0]!.noticeNumber, 'PAA_SINTASSI_EXTRAXSD', /transferType/, {
        name: 'pa-get-payment.bad-transfer-type.xml',
      });
    });

    test('another station: PAA_STAZIONE_INT_ERRATA', async () => {
      const { options } = await givenPosition(svc.api, roadFine(1));
      await expectFault(options[0]!.noticeNumber, 'PAA_STAZIONE_INT_ERRATA', /idStation/, {
        edit: (xml) => xml.replace('<idStation>80000000099_01<', '<idStation>80000000099_02<'),
      });
    });
  });
});
