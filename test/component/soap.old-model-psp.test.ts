import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  PPT_NS,
  parsePaaAttivaRPTResponse,
  parsePaaVerificaRPTResponse,
  type PaymentDataResponse,
} from '../../src/adapters/pagopa/old-model-soap';
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
 * Old model 3 (PaPerNodoPagamentoPsp): paaVerificaRPT and paaAttivaRPT answer from the same
 * positions as the new model; paaAttivaRPT checks the PSP's amount and records its CCP.
 */

const today = romeDate(new Date());
const pspWsdl = ownWsdlSchema('PaPerNodoPagamentoPsp.wsdl', PPT_NS);
const IBAN = 'IT60X0542811101000000123456';

describe('paaVerificaRPT / paaAttivaRPT', () => {
  let svc: NoticeService;

  beforeAll(async () => {
    svc = await startNoticeService('soap_old_model_psp');
  });
  afterAll(async () => {
    await svc.stop();
  });

  async function call(
    name: string,
    vars: Record<string, string>,
    parse: (xml: string) => PaymentDataResponse,
  ): Promise<PaymentDataResponse> {
    const { status, text } = await postSoap(
      `${svc.soap}/pagopa/PaPerNodoPagamentoPsp`,
      fixture(name, vars),
    );
    expect(status).toBe(200);
    expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(await validateSoapBody(text, pspWsdl)).toEqual({ valid: true, errors: [] });
    return parse(text);
  }

  const verifica = (name: string, iuv: string) =>
    call(name, { IUV: iuv, CCP: randomUUID().replace(/-/g, '') }, parsePaaVerificaRPTResponse);
  const attiva = (iuv: string, ccp: string, amount: string, name = 'paa-attiva-rpt.xml') =>
    call(name, { IUV: iuv, CCP: ccp, AMOUNT: amount }, parsePaaAttivaRPTResponse);

  const rptAttempts = (iuv: string) =>
    svc
      .db('payment_attempts as a')
      .join('payment_options as o', 'o.id', 'a.payment_option_id')
      .where({ 'o.iuv': iuv, 'o.domain_id': DOMAIN })
      .orderBy('a.id')
      .select('a.channel', 'a.status', 'a.amount_cents', 'a.ccp') as Promise<
      { channel: string; status: string; amount_cents: number; ccp: string | null }[]
    >;

  test('paaVerificaRPT answers the amount in force today, the account, the causale and the creditor', async () => {
    const { options } = await givenPosition(svc.api, roadFine(2));
    const iuv = options[0]!.iuv;
    const res = await verifica('paa-verifica-rpt.xml', iuv);
    expect(res).toEqual({
      outcome: 'OK',
      paymentData: {
        amountCents: 2940,
        creditIban: IBAN,
        creditor: {
          taxCode: DOMAIN,
          name: 'Comune di Borgo Verde (demo)',
          unitName: 'Servizi scolastici',
        },
        remittance: {
          kind: 'text',
          text: `/RFB/${iuv}/TXT/Verbale n. 2026/004512 del 02/12/2026 - art. 7 CdS`,
        },
      },
    });
    expect(await rptAttempts(iuv)).toEqual([]);
  });

  test('paaAttivaRPT with the right amount records the CCP on a PENDING RPT attempt, once per CCP', async () => {
    const { options } = await givenPosition(svc.api, roadFine(1));
    const iuv = options[0]!.iuv;
    const ccp = randomUUID().replace(/-/g, '');
    const first = await attiva(iuv, ccp, '29.40');
    expect(first).toMatchObject({ outcome: 'OK', paymentData: { amountCents: 2940 } });
    const again = await attiva(iuv, ccp, '29.40');
    expect(again).toEqual(first);
    expect(await rptAttempts(iuv)).toEqual([
      { channel: 'RPT', status: 'PENDING', amount_cents: 2940, ccp },
    ]);
    const otherPsp = randomUUID().replace(/-/g, '');
    await attiva(iuv, otherPsp, '29.40');
    expect((await rptAttempts(iuv)).map((a) => a.ccp)).toEqual([ccp, otherPsp]);
  });

  test('paaAttivaRPT with a stale amount is PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO with the right amount, and records nothing', async () => {
    const { options } = await givenPosition(svc.api, roadFine(2));
    const iuv = options[0]!.iuv;
    const res = await attiva(iuv, randomUUID().replace(/-/g, ''), '42.00');
    expect(res).toMatchObject({
      outcome: 'KO',
      fault: {
        faultCode: 'PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO',
        id: DOMAIN,
        description: expect.stringMatching(/42\.00 non valido.*29\.40/),
      },
      paymentData: { amountCents: 2940, creditIban: IBAN },
    });
    expect(await rptAttempts(iuv)).toEqual([]);
  });

  describe('faults: same codes as the new model, nothing recorded', () => {
    const expectFault = async (
      res: Promise<PaymentDataResponse>,
      faultCode: string,
      description: RegExp,
      id = DOMAIN,
    ) => {
      const attemptsBefore = await count(svc.db, 'payment_attempts');
      expect(await res).toMatchObject({
        outcome: 'KO',
        fault: { faultCode, id, description: expect.stringMatching(description) },
      });
      expect(await count(svc.db, 'payment_attempts')).toBe(attemptsBefore);
    };

    test('unknown IUV: PAA_PAGAMENTO_SCONOSCIUTO (verifica and attiva)', async () => {
      await expectFault(
        verifica('paa-verifica-rpt.xml', '02999999999999999'),
        'PAA_PAGAMENTO_SCONOSCIUTO',
        /IUV 02999999999999999 is unknown/,
      );
      await expectFault(
        attiva('02999999999999999', 'ccp-unknown', '10.00'),
        'PAA_PAGAMENTO_SCONOSCIUTO',
        /is unknown/,
      );
    });

    test('paid: PAA_PAGAMENTO_DUPLICATO', async () => {
      const { externalId, options } = await givenPosition(svc.api, roadFine(9));
      await request(svc.api)
        .post(`/api/v1/debt-positions/${externalId}/offline-payments`)
        .set(ERP)
        .send({
          amountCents: 4200,
          channel: 'BANK_TRANSFER',
          reference: `bt-${externalId}`,
          paidAt: new Date().toISOString(),
        })
        .expect(201);
      await expectFault(
        attiva(options[0]!.iuv, 'ccp-paid', '42.00'),
        'PAA_PAGAMENTO_DUPLICATO',
        /already paid/,
      );
    });

    test('cancelled: PAA_PAGAMENTO_ANNULLATO', async () => {
      const { externalId, options } = await givenPosition(svc.api, roadFine(1));
      await request(svc.api).delete(`/api/v1/debt-positions/${externalId}`).set(ERP).expect(200);
      await expectFault(
        verifica('paa-verifica-rpt.xml', options[0]!.iuv),
        'PAA_PAGAMENTO_ANNULLATO',
        /cancelled/,
      );
    });

    test('a lapsed alternative: PAA_PAGAMENTO_SCADUTO', async () => {
      const { options } = await givenPosition(svc.api, {
        ...erpFixture('road-fine-alternatives.json'),
        paymentOptions: [
          { amountCents: 2940, dueDate: addDays(today, -2) },
          { amountCents: 4200, dueDate: addDays(today, 40) },
        ],
      });
      await expectFault(
        attiva(options[0]!.iuv, 'ccp-lapsed', '29.40'),
        'PAA_PAGAMENTO_SCADUTO',
        /instead/,
      );
    });

    test('a marca da bollo notice: PAA_SEMANTICA (new model only)', async () => {
      const { options } = await givenPosition(svc.api, erpFixture('nursery-fee-with-stamp.json'));
      await expectFault(
        verifica('paa-verifica-rpt.xml', options[0]!.iuv),
        'PAA_SEMANTICA',
        /marca da bollo/,
      );
    });

    test('CCP n/a: PAA_SEMANTICA', async () => {
      const { options } = await givenPosition(svc.api, roadFine(1));
      await expectFault(attiva(options[0]!.iuv, 'n/a', '29.40'), 'PAA_SEMANTICA', /n\/a/);
    });

    test('an amount that is not a decimal with a dot: PAA_SINTASSI_EXTRAXSD', async () => {
      const { options } = await givenPosition(svc.api, roadFine(1));
      await expectFault(
        call(
          'paa-attiva-rpt.bad-amount.xml',
          { IUV: options[0]!.iuv, CCP: 'ccp-bad-amount' },
          parsePaaAttivaRPTResponse,
        ),
        'PAA_SINTASSI_EXTRAXSD',
        /importoSingoloVersamento/,
      );
    });

    test.each([
      ['unknown-domain', 'PAA_ID_DOMINIO_ERRATO', /80000000777 is not a domain/, '80000000777'],
      ['wrong-broker', 'PAA_ID_INTERMEDIARIO_ERRATO', /80000000098/, DOMAIN],
      ['wrong-station', 'PAA_STAZIONE_INT_ERRATA', /80000000099_07/, DOMAIN],
      ['no-header', 'PAA_SINTASSI_EXTRAXSD', /Header/, DOMAIN],
    ])('paaVerificaRPT %s: %s', async (variant, faultCode, description, id) => {
      const { options } = await givenPosition(svc.api, roadFine(1));
      await expectFault(
        verifica(`paa-verifica-rpt.${variant}.xml`, options[0]!.iuv),
        faultCode,
        description,
        id,
      );
    });
  });
});
