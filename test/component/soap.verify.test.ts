import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import {
  PA_FOR_NODE_NS,
  parsePaVerifyPaymentNoticeResponse,
  type PaVerifyPaymentNoticeResponse,
} from '../../src/adapters/pagopa/pa-for-node';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import { ERP } from '../helpers/api';
import {
  DOMAIN,
  erpFixture,
  fixture,
  givenPosition,
  roadFine,
  postSoap,
  startNoticeService,
  type NoticeService,
} from '../helpers/notice-soap';
import { REPO_ROOT } from '../helpers/service';
import { ownWsdlSchema, validateSoapBody } from '../helpers/xsd';

/**
 * paVerifyPaymentNotice through the real door: positions made with the ERP API, real XML from
 * fixtures/soap/verify, answers parsed with our codec and validated against paForNode.xsd.
 */

const today = romeDate(new Date());
const paForNode = ownWsdlSchema('paForNode.wsdl', PA_FOR_NODE_NS);

async function verify(
  svc: NoticeService,
  name: string,
  noticeNumber = '302000000000000000',
): Promise<{ text: string; res: PaVerifyPaymentNoticeResponse }> {
  const { status, text } = await postSoap(
    `${svc.soap}/pagopa/paForNode`,
    fixture(name, { NOTICE_NUMBER: noticeNumber }),
  );
  expect(status).toBe(200);
  return { text, res: parsePaVerifyPaymentNoticeResponse(text) };
}

function faultOf(res: PaVerifyPaymentNoticeResponse) {
  if (res.outcome !== 'KO' || res.fault === undefined) throw new Error('expected a KO answer');
  return res.fault;
}

describe('paVerifyPaymentNotice', () => {
  let svc: NoticeService;

  beforeAll(async () => {
    svc = await startNoticeService('soap_verify');
  });
  afterAll(async () => {
    await svc.stop();
  });

  test('a road fine notified 2 days ago costs its reduced amount today: one EQ option, our names', async () => {
    const { options } = await givenPosition(svc.api, roadFine(2));
    const { text, res } = await verify(
      svc,
      'pa-verify-payment-notice.xml',
      options[0]!.noticeNumber,
    );
    expect(res).toEqual({
      outcome: 'OK',
      paymentOption: {
        amountCents: 2940,
        amountOption: 'EQ',
        dueDate: addDays(today, 58),
        detailDescription: 'Verbale n. 2026/004512 del 02/12/2026 - art. 7 CdS',
        allPostal: false,
      },
      paymentDescription: 'Verbale n. 2026/004512 del 02/12/2026 - art. 7 CdS',
      domainFiscalCode: DOMAIN,
      companyName: 'Comune di Borgo Verde (demo)',
      officeName: 'Servizi scolastici',
    });
    expect(await validateSoapBody(text, paForNode)).toEqual({ valid: true, errors: [] });
  });

  test('the same fine notified 10 days ago costs the full amount, on the same notice', async () => {
    const { options } = await givenPosition(svc.api, roadFine(10));
    const { res } = await verify(svc, 'pa-verify-payment-notice.xml', options[0]!.noticeNumber);
    expect(res.outcome === 'OK' && res.paymentOption.amountCents).toBe(4200);
  });

  test('verifying changes nothing and can be repeated', async () => {
    const { options } = await givenPosition(svc.api, roadFine(1));
    const before = await svc.db('payment_attempts').count({ n: '*' }).first();
    const first = await verify(svc, 'pa-verify-payment-notice.xml', options[0]!.noticeNumber);
    const second = await verify(svc, 'pa-verify-payment-notice.xml', options[0]!.noticeNumber);
    expect(second.res).toEqual(first.res);
    expect(await svc.db('payment_attempts').count({ n: '*' }).first()).toEqual(before);
  });

  test('allCCP is true when every transfer has a postal account', async () => {
    const { options } = await givenPosition(svc.api, {
      ...erpFixture('road-fine-alternatives.json'),
      plan: 'SINGLE',
      paymentOptions: [{ amountCents: 5000, dueDate: addDays(today, 30) }],
      transfers: [
        {
          amountCents: 5000,
          iban: 'IT60X0542811101000000123456',
          postalIban: 'IT57N0760111100000012345678',
        },
      ],
    });
    const { res } = await verify(svc, 'pa-verify-payment-notice.xml', options[0]!.noticeNumber);
    expect(res.outcome === 'OK' && res.paymentOption.allPostal).toBe(true);
  });

  describe('faults: the PAA code, our fiscal code as id, the reason in description', () => {
    const expectFault = async (
      name: string,
      noticeNumber: string,
      faultCode: string,
      description: RegExp,
    ) => {
      const { text, res } = await verify(svc, name, noticeNumber);
      const fault = faultOf(res);
      expect(fault.faultCode).toBe(faultCode);
      expect(fault.id).toBe(DOMAIN);
      expect(fault.description).toMatch(description);
      expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
      expect(await validateSoapBody(text, paForNode)).toEqual({ valid: true, errors: [] });
    };

    test('an unknown notice number is PAA_PAGAMENTO_SCONOSCIUTO', async () => {
      await expectFault(
        'pa-verify-payment-notice.xml',
        '302999999999999999',
        'PAA_PAGAMENTO_SCONOSCIUTO',
        /302999999999999999 is unknown/,
      );
    });

    test('a paid notice is PAA_PAGAMENTO_DUPLICATO', async () => {
      const { externalId, options } = await givenPosition(svc.api, roadFine(1));
      await request(svc.api)
        .post(`/api/v1/debt-positions/${externalId}/offline-payments`)
        .set(ERP)
        .send({
          amountCents: 2940,
          channel: 'COUNTER',
          reference: `counter-${externalId}`,
          paidAt: new Date().toISOString(),
          noticeNumber: options[0]!.noticeNumber,
        })
        .expect(201);
      await expectFault(
        'pa-verify-payment-notice.xml',
        options[0]!.noticeNumber,
        'PAA_PAGAMENTO_DUPLICATO',
        /already paid/,
      );
    });

    test('a cancelled position is PAA_PAGAMENTO_ANNULLATO', async () => {
      const { externalId, options } = await givenPosition(svc.api, roadFine(1));
      await request(svc.api).delete(`/api/v1/debt-positions/${externalId}`).set(ERP).expect(200);
      await expectFault(
        'pa-verify-payment-notice.xml',
        options[0]!.noticeNumber,
        'PAA_PAGAMENTO_ANNULLATO',
        /cancelled/,
      );
    });

    test('a lapsed alternative (the reduced amount on its own notice) is PAA_PAGAMENTO_SCADUTO', async () => {
      const { options } = await givenPosition(svc.api, {
        ...erpFixture('road-fine-alternatives.json'),
        paymentOptions: [
          { amountCents: 2940, dueDate: addDays(today, -1) },
          { amountCents: 4200, dueDate: addDays(today, 50) },
        ],
      });
      const [reduced, full] = options;
      await expectFault(
        'pa-verify-payment-notice.xml',
        reduced!.noticeNumber,
        'PAA_PAGAMENTO_SCADUTO',
        new RegExp(`pay notice ${full!.noticeNumber} instead`),
      );
      const { res } = await verify(svc, 'pa-verify-payment-notice.xml', full!.noticeNumber);
      expect(res.outcome === 'OK' && res.paymentOption.amountCents).toBe(4200);
    });

    test('a debt past its due date is still payable (only alternatives and top-ups lapse)', async () => {
      const { options } = await givenPosition(svc.api, {
        ...erpFixture('nursery-instalments.json'),
        paymentOptions: [
          { amountCents: 12000, dueDate: addDays(today, -40), installment: 1 },
          { amountCents: 12000, dueDate: addDays(today, 20), installment: 2 },
        ],
      });
      const { res } = await verify(svc, 'pa-verify-payment-notice.xml', options[0]!.noticeNumber);
      expect(res.outcome).toBe('OK');
    });

    test('a notice not payable before its validFrom day is PAA_PAGAMENTO_SCONOSCIUTO', async () => {
      const { options } = await givenPosition(svc.api, roadFine(-3));
      await expectFault(
        'pa-verify-payment-notice.xml',
        options[0]!.noticeNumber,
        'PAA_PAGAMENTO_SCONOSCIUTO',
        /payable from/,
      );
    });

    test('a qrCode of another creditor is PAA_PAGAMENTO_SCONOSCIUTO', async () => {
      const { options } = await givenPosition(svc.api, roadFine(1));
      await expectFault(
        'pa-verify-payment-notice.other-creditor.xml',
        options[0]!.noticeNumber,
        'PAA_PAGAMENTO_SCONOSCIUTO',
        /80000000002 differs from idPA 80000000001/,
      );
    });

    test.each([
      ['wrong-broker', 'PAA_ID_INTERMEDIARIO_ERRATO', /idBrokerPA 80000000098/],
      ['wrong-station', 'PAA_STAZIONE_INT_ERRATA', /idStation 80000000099_07/],
      ['short-notice-number', 'PAA_SINTASSI_EXTRAXSD', /noticeNumber: 18-digit notice number/],
    ])('%s is %s', async (variant, faultCode, description) => {
      await expectFault(
        `pa-verify-payment-notice.${variant}.xml`,
        '302000000000000000',
        faultCode,
        description,
      );
    });

    test('an idPA we do not serve is PAA_ID_DOMINIO_ERRATO, with the id it named', async () => {
      const { res } = await verify(svc, 'pa-verify-payment-notice.unknown-domain.xml');
      expect(faultOf(res)).toMatchObject({
        faultCode: 'PAA_ID_DOMINIO_ERRATO',
        id: '80000000777',
        description: expect.stringMatching(/80000000777 is not a domain/),
      });
    });
  });
});

describe('paVerifyPaymentNotice with an IP allowlist', () => {
  let svc: NoticeService;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soap-allowlist-'));
    const demo = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'domains.demo.json'), 'utf8'),
    ) as { domains: Record<string, unknown>[] };
    demo.domains[0] = { ...demo.domains[0], allowedIps: ['10.9.9.9'] };
    const file = path.join(dir, 'domains.json');
    fs.writeFileSync(file, JSON.stringify(demo));
    svc = await startNoticeService('soap_verify_ip', { DOMAINS_FILE: file });
  });
  afterAll(async () => {
    await svc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a call from an address not on the list is PAA_ID_INTERMEDIARIO_ERRATO', async () => {
    const { options } = await givenPosition(svc.api, roadFine(1));
    const { res } = await verify(svc, 'pa-verify-payment-notice.xml', options[0]!.noticeNumber);
    expect(faultOf(res)).toMatchObject({
      faultCode: 'PAA_ID_INTERMEDIARIO_ERRATO',
      id: DOMAIN,
      description: expect.stringMatching(/not allowed from this address/),
    });
  });
});
