import request from 'supertest';
import {
  PA_FOR_NODE_NS,
  parsePaDemandPaymentNoticeResponse,
  parsePaVerifyPaymentNoticeResponse,
  type PaDemandPaymentNoticeResponse,
} from '../../src/adapters/pagopa/pa-for-node';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import { ERP } from '../helpers/api';
import {
  DOMAIN,
  count,
  erpFixture,
  fixture,
  postSoap,
  startNoticeService,
  type NoticeService,
} from '../helpers/notice-soap';
import { ownWsdlSchema, validateSoapBody } from '../helpers/xsd';

/**
 * paDemandPaymentNotice: Capannori's "pagamento spontaneo" with the Codice Iris, started at a PSP
 * or a regional portal. The fixtures carry the card top-up document (base64) for the card number
 * 4202700001, whose mod93 card code is 420270000155; the card is registered through the ERP API.
 */

const today = romeDate(new Date());
const paForNode = ownWsdlSchema('paForNode.wsdl', PA_FOR_NODE_NS);
const CARD_CODE = '420270000155';

describe('paDemandPaymentNotice (card top-up)', () => {
  let svc: NoticeService;

  beforeAll(async () => {
    svc = await startNoticeService('soap_demand');
    const res = await request(svc.api)
      .post('/api/v1/cards')
      .set(ERP)
      .send({ ...erpFixture('register-card.ok.json'), cardNumber: '4202700001' })
      .expect(201);
    expect((res.body as { cardCode: string }).cardCode).toBe(CARD_CODE);
  });
  afterAll(async () => {
    await svc.stop();
  });

  async function demand(
    name: string,
  ): Promise<{ text: string; res: PaDemandPaymentNoticeResponse }> {
    const { status, text } = await postSoap(`${svc.soap}/pagopa/paForNode`, fixture(name));
    expect(status).toBe(200);
    expect(await validateSoapBody(text, paForNode)).toEqual({ valid: true, errors: [] });
    return { text, res: parsePaDemandPaymentNoticeResponse(text) };
  }

  test('a valid card code and amount: a new notice for the amount, a TOP_UP position on the card and a PENDING attempt', async () => {
    const { res } = await demand('pa-demand-payment-notice.canteen.xml');
    if (res.outcome !== 'OK') throw new Error(`expected OK, got ${JSON.stringify(res)}`);
    expect(res).toEqual({
      outcome: 'OK',
      notice: { domainFiscalCode: DOMAIN, noticeNumber: expect.stringMatching(/^302\d{15}$/) },
      paymentOption: {
        amountCents: 2500,
        amountOption: 'EQ',
        dueDate: addDays(today, 30),
        detailDescription: 'Ricarica Refezione scolastica',
        allPostal: false,
      },
      paymentDescription: 'Ricarica Refezione scolastica',
      domainFiscalCode: DOMAIN,
      companyName: 'Comune di Borgo Verde (demo)',
      officeName: 'Servizi scolastici',
    });

    const stored = (await svc
      .db('payment_options as o')
      .join('debt_positions as p', 'p.id', 'o.debt_position_id')
      .join('cards as c', 'c.id', 'p.card_id')
      .join('payment_attempts as a', 'a.payment_option_id', 'o.id')
      .where({ 'o.notice_number': res.notice.noticeNumber })
      .first(
        'p.kind',
        'p.account',
        'p.debtor_fiscal_code',
        'c.card_code',
        'o.amount_cents',
        'a.channel',
        'a.status',
      )) as Record<string, unknown>;
    expect(stored).toEqual({
      kind: 'TOP_UP',
      account: 'CANTEEN',
      debtor_fiscal_code: 'RSSMRA85T10A562S',
      card_code: CARD_CODE,
      amount_cents: 2500,
      channel: 'TOP_UP',
      status: 'PENDING',
    });

    // The node can then verify the new notice like any other.
    const verify = await postSoap(
      `${svc.soap}/pagopa/paForNode`,
      fixture('pa-verify-payment-notice.xml', { NOTICE_NUMBER: res.notice.noticeNumber }),
    );
    const verified = parsePaVerifyPaymentNoticeResponse(verify.text);
    expect(verified.outcome === 'OK' && verified.paymentOption.amountCents).toBe(2500);
  });

  test('each demand is a new notice', async () => {
    const first = await demand('pa-demand-payment-notice.canteen.xml');
    const second = await demand('pa-demand-payment-notice.canteen.xml');
    const numbers = [first.res, second.res].map((r) =>
      r.outcome === 'OK' ? r.notice.noticeNumber : '',
    );
    expect(new Set(numbers).size).toBe(2);
  });

  test.each([
    ['bad-check-digits', 'PAA_SEMANTICA', /codice carta non valido/],
    ['unknown-card', 'PAA_SEMANTICA', /codice carta sconosciuto/],
    ['over-limit', 'PAA_SEMANTICA', /500 to 50000 cents, not 60000/],
    ['under-limit', 'PAA_SEMANTICA', /NURSERY_MEALS top-up is 500 to 50000 cents, not 100/],
    ['postpaid-account', 'PAA_SEMANTICA', /SCHOOL_TRANSPORT cannot be topped up/],
    ['unknown-service', 'PAA_SEMANTICA', /servizio 00042\/00001 non previsto/],
    ['document-breaks-xsd', 'PAA_SINTASSI_XSD', /datiSpecificiServizioRequest: .*amount/],
    ['not-base64', 'PAA_SINTASSI_EXTRAXSD', /base64/],
  ])('%s: %s, and nothing is stored', async (variant, faultCode, description) => {
    const before = {
      positions: await count(svc.db, 'debt_positions'),
      attempts: await count(svc.db, 'payment_attempts'),
    };
    const { text, res } = await demand(`pa-demand-payment-notice.${variant}.xml`);
    if (res.outcome !== 'KO' || res.fault === undefined) throw new Error('expected KO');
    expect(res.fault).toMatchObject({
      faultCode,
      id: DOMAIN,
      description: expect.stringMatching(description),
    });
    expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect({
      positions: await count(svc.db, 'debt_positions'),
      attempts: await count(svc.db, 'payment_attempts'),
    }).toEqual(before);
  });
});
