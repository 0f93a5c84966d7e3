/**
 * New-model (paForNode) and nodeForPa builders and parsers: every fixture parses to the expected
 * values, build -> parse round trips, amounts and identifiers are strict, prefixes, `standin` and
 * zoned dates are lenient, DOCTYPE/ENTITY documents are refused.
 */
import fc from 'fast-check';
import { AppError, type ErrorCode } from '../../../src/domain/errors';
import {
  type Receipt,
  buildCardTopUpDocument,
  buildPaDemandPaymentNoticeRequest,
  buildPaDemandPaymentNoticeResponse,
  buildPaGetPaymentRequest,
  buildPaGetPaymentResponse,
  buildPaSendRtRequest,
  buildPaSendRtResponse,
  buildPaVerifyPaymentNoticeRequest,
  buildPaVerifyPaymentNoticeResponse,
  formatCents,
  parseCardTopUpDocument,
  parsePaDemandPaymentNoticeRequest,
  parsePaDemandPaymentNoticeResponse,
  parsePaForNodeRequest,
  parsePaGetPaymentRequest,
  parsePaGetPaymentResponse,
  parsePaSendRtRequest,
  parsePaSendRtResponse,
  parsePaVerifyPaymentNoticeRequest,
  parsePaVerifyPaymentNoticeResponse,
} from '../../../src/adapters/pagopa/pa-for-node';
import {
  buildFlowListRequest,
  buildFlowListResponse,
  buildFlowRequest,
  buildFlowResponse,
  parseFlowListRequest,
  parseFlowListResponse,
  parseFlowRequest,
  parseFlowResponse,
} from '../../../src/adapters/pagopa/node-for-pa';
import * as s from '../../helpers/pa-for-node-samples';

function codeOf(fn: () => unknown): ErrorCode | 'no error' {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return 'no error';
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return 'no error';
}

const entries = <T>(r: Record<string, T>): [string, T][] => Object.entries(r);

// ------------------------------------------------------------------------------------------------

describe('parsing the fixtures', () => {
  it('paVerifyPaymentNotice request: prefixed, other prefixes and unprefixed give the same object', () => {
    const expected = {
      station: { domainId: '80012345678', brokerId: '15376371009', stationId: '15376371009_48' },
      notice: { domainFiscalCode: '80012345678', noticeNumber: '302032002700000251' },
    };
    for (const f of [
      'pa-verify-payment-notice.req.xml',
      'pa-verify-payment-notice.req.other-prefixes.xml',
      'pa-verify-payment-notice.req.lenient-unprefixed.xml',
    ]) {
      expect(parsePaVerifyPaymentNoticeRequest(s.fixture(f))).toEqual(expected);
    }
  });

  it('paVerifyPaymentNotice responses: OK full, OK minimal (allCCP as 1), KO', () => {
    expect(
      parsePaVerifyPaymentNoticeResponse(s.fixture('pa-verify-payment-notice.res.ok.full.xml')),
    ).toEqual({
      outcome: 'OK',
      paymentOption: {
        amountCents: 4560,
        amountOption: 'EQ',
        dueDate: '2026-12-31',
        detailDescription: 'Trasporto scolastico novembre 2026',
        allPostal: false,
      },
      paymentDescription: 'Trasporto scolastico novembre 2026 - card 0001234567',
      domainFiscalCode: '80012345678',
      companyName: 'Comune di Esempio',
      officeName: 'Ufficio Scuola',
    });
    expect(
      parsePaVerifyPaymentNoticeResponse(s.fixture('pa-verify-payment-notice.res.ok.minimal.xml')),
    ).toEqual({
      outcome: 'OK',
      paymentOption: { amountCents: 1, amountOption: 'EQ', allPostal: true },
    });
    expect(
      parsePaVerifyPaymentNoticeResponse(s.fixture('pa-verify-payment-notice.res.ko.xml')),
    ).toEqual({
      outcome: 'KO',
      fault: {
        faultCode: 'PAA_PAGAMENTO_SCONOSCIUTO',
        faultString: "Pagamento in attesa risulta sconosciuto all'Ente Creditore",
        id: '80012345678',
        description: 'notice 302032002700000251 not found',
      },
    });
  });

  it('paGetPayment requests: minimal, full with a zoned dueDate, V2', () => {
    expect(parsePaGetPaymentRequest(s.fixture('pa-get-payment.req.minimal.xml'))).toEqual({
      version: 1,
      station: s.station,
      notice: { domainFiscalCode: '80012345678', noticeNumber: '302032002700000251' },
    });
    expect(parsePaGetPaymentRequest(s.fixture('pa-get-payment.req.full.xml'))).toMatchObject({
      version: 1,
      amountCents: 4560,
      paymentNote: 'idCart 3c1e0f04-5a3b-4c52-9a3b-2f9d7f1a0c11',
      transferType: 'POSTAL',
      dueDate: '2026-12-31',
    });
    expect(parsePaGetPaymentRequest(s.fixture('pa-get-payment-v2.req.xml'))).toMatchObject({
      version: 2,
      notice: { noticeNumber: '348172725623804858' },
      amountCents: 1600,
      transferType: 'PAGOPA',
    });
  });

  it('paGetPayment V1 response with two beneficiaries and metadata', () => {
    const res = parsePaGetPaymentResponse(s.fixture('pa-get-payment.res.ok.multi-transfer.xml'));
    if (res.outcome !== 'OK') throw new Error('expected OK');
    expect(res.version).toBe(1);
    expect(res.payment).toMatchObject({
      iuv: '02032002700000251',
      amountCents: 12050,
      dueDate: '2026-12-31',
      retentionDate: '2027-01-31T23:59:59',
      lastPayment: false,
      debtor: {
        idType: 'F',
        idValue: 'RSSMRA80A01E715X',
        province: 'LU',
        email: 'mario.rossi@example.it',
      },
      metadata: [
        { key: 'verbale', value: '1234/2026' },
        { key: 'targa', value: 'AB123CD' },
      ],
    });
    expect(
      res.payment.transfers.map((t) => [t.transferId, t.amountCents, t.domainFiscalCode, t.iban]),
    ).toEqual([
      [1, 10000, '80012345678', 'IT60X0542811101000000123456'],
      [2, 2050, '97735020584', 'IT96R0123412345000000012345'],
    ]);
    expect(res.payment.transfers[0]?.metadata).toEqual([{ key: 'capitolo', value: '3010' }]);
  });

  it('paGetPaymentV2 response with a marca da bollo transfer', () => {
    const res = parsePaGetPaymentResponse(s.fixture('pa-get-payment-v2.res.ok.stamp.xml'));
    if (res.outcome !== 'OK') throw new Error('expected OK');
    expect(res.version).toBe(2);
    expect(res.payment.companyName).toBe('Comune di Esempio');
    expect(res.payment.transfers[0]).toMatchObject({
      companyName: 'Comune di Esempio',
      iban: 'IT60X0542811101000000123456',
    });
    expect(res.payment.transfers[1]).toEqual({
      transferId: 2,
      amountCents: 1600,
      domainFiscalCode: '80012345678',
      stamp: {
        hashDocument: 'pXdjX3tiNkPbCu4XVt08xPAR2lNfs8qGWbe0mHe0Kzc=',
        stampType: '01',
        provincialResidence: 'LU',
      },
      remittanceInformation: 'Marca da bollo certificato anagrafico',
      transferCategory: '0115103TS',
    });
  });

  it('paGetPayment KO response', () => {
    expect(parsePaGetPaymentResponse(s.fixture('pa-get-payment.res.ko.xml'))).toEqual({
      version: 1,
      outcome: 'KO',
      fault: {
        faultCode: 'PAA_PAGAMENTO_DUPLICATO',
        faultString: "Pagamento in attesa risulta concluso all'Ente Creditore",
        id: '80012345678',
        serial: 1,
      },
    });
  });

  it('paSendRT minimal receipt', () => {
    expect(parsePaSendRtRequest(s.fixture('pa-send-rt.req.minimal.xml'))).toEqual({
      version: 1,
      station: s.station,
      receipt: {
        ...s.minimalReceipt,
        description: 'Ricarica mensa scolastica card 0001234567',
        transfers: [
          {
            ...s.minimalReceipt.transfers[0],
            remittanceInformation: '/RFB/02032002700000251/45.60/TXT/Ricarica mensa',
          },
        ],
      },
    });
  });

  it('paSendRT with three transfers, payer, fee, zoned dates and standIn=false', () => {
    const { receipt } = parsePaSendRtRequest(s.fixture('pa-send-rt.req.multi-transfer.xml'));
    expect(receipt.amountCents).toBe(25075);
    expect(receipt.transfers.map((t) => [t.transferId, t.amountCents, t.domainFiscalCode])).toEqual(
      [
        [1, 20000, '80012345678'],
        [2, 5000, '80012345678'],
        [3, 75, '01199250158'],
      ],
    );
    expect(receipt.transfers.reduce((sum, t) => sum + t.amountCents, 0)).toBe(receipt.amountCents);
    expect(receipt.psp).toEqual({
      id: 'BCITITMM',
      fiscalCode: '00799960158',
      vatNumber: '10810700152',
      companyName: 'Intesa Sanpaolo S.p.A',
      channelId: '00799960158_01',
      channelDescription: 'app',
    });
    expect(receipt.payer?.fullName).toBe('Giovanni Bianchi');
    expect(receipt.debtor.idType).toBe('G');
    expect(receipt.feeCents).toBe(150);
    expect(receipt.paymentDateTime).toBe('2026-10-15T17:48:22.123+02:00');
    expect(receipt.applicationDate).toBe('2026-10-15');
    expect(receipt.transferDate).toBe('2026-10-16');
    expect(receipt.standIn).toBe(false);
  });

  it('paSendRTV2 with marca da bollo, V2 fields and metadata', () => {
    const { version, receipt } = parsePaSendRtRequest(s.fixture('pa-send-rt-v2.req.stamp.xml'));
    expect(version).toBe(2);
    const stamp = receipt.transfers[1]?.stamp;
    expect(stamp).toBeDefined();
    const decoded = Buffer.from(stamp?.documentBase64 ?? '', 'base64').toString('utf8');
    expect(decoded).toBe(s.fixture('marca-da-bollo.document.xml'));
    expect(receipt.transfers[0]).toMatchObject({
      companyName: 'Comune di Esempio',
      iban: 'IT60X0542811101000000123456',
    });
    expect(receipt).toMatchObject({
      paymentNote: 'idCart 3c1e0f04-5a3b-4c52-9a3b-2f9d7f1a0c11',
      feeCents: 100,
      primaryCreditorFeeCents: 20,
      bundleId: '1a2b3c4d-0000-4000-8000-000000000001',
      creditorBundleId: '1a2b3c4d-0000-4000-8000-000000000002',
      paymentDateTime: '2026-11-03T10:15:30Z',
      metadata: [
        { key: 'pratica', value: 'CERT-2026-0042' },
        { key: 'sportello', value: 'online' },
      ],
    });
    expect(receipt.standIn).toBeUndefined();
  });

  it('stand-in receipts: standIn (V2) and standin (lower case, V1) both read as true', () => {
    const v2 = parsePaSendRtRequest(s.fixture('pa-send-rt-v2.req.standin.xml'));
    const v1 = parsePaSendRtRequest(s.fixture('pa-send-rt.req.lenient-standin-lowercase.xml'));
    expect(v2.receipt.standIn).toBe(true);
    expect(v1.receipt.standIn).toBe(true);
    expect(v1.receipt).toEqual(v2.receipt);
    expect(v1.receipt.paymentDateTime).toBe('2026-11-20T08:01:02');
  });

  it('paSendRT responses: OK V1/V2 and KO V2', () => {
    expect(parsePaSendRtResponse(s.fixture('pa-send-rt.res.ok.xml'))).toEqual({
      version: 1,
      outcome: 'OK',
    });
    expect(parsePaSendRtResponse(s.fixture('pa-send-rt-v2.res.ok.xml'))).toEqual({
      version: 2,
      outcome: 'OK',
    });
    expect(parsePaSendRtResponse(s.fixture('pa-send-rt-v2.res.ko.xml'))).toMatchObject({
      version: 2,
      outcome: 'KO',
      fault: { faultCode: 'PAA_RECEIPT_DUPLICATA', id: '80012345678' },
    });
  });

  it('paDemandPaymentNotice request carries a card top-up document', () => {
    const req = parsePaDemandPaymentNoticeRequest(s.fixture('pa-demand-payment-notice.req.xml'));
    expect(req).toMatchObject({
      station: s.station,
      serviceId: '00042',
      serviceSubjectId: '00001',
    });
    expect(parseCardTopUpDocument(req.serviceDataXml)).toEqual({
      cardCode: '000123456742',
      account: 'CANTEEN',
      amountCents: 5000,
    });
  });

  it('paDemandPaymentNotice responses: OK and KO', () => {
    expect(
      parsePaDemandPaymentNoticeResponse(s.fixture('pa-demand-payment-notice.res.ok.xml')),
    ).toEqual({
      outcome: 'OK',
      notice: { domainFiscalCode: '80012345678', noticeNumber: '302032002700000251' },
      paymentOption: {
        amountCents: 5000,
        amountOption: 'EQ',
        dueDate: '2026-11-30',
        detailDescription: 'Ricarica mensa card 0001234567',
        allPostal: false,
      },
      paymentDescription: 'Ricarica mensa scolastica',
      domainFiscalCode: '80012345678',
      companyName: 'Comune di Esempio',
    });
    expect(
      parsePaDemandPaymentNoticeResponse(s.fixture('pa-demand-payment-notice.res.ko.xml')),
    ).toMatchObject({
      outcome: 'KO',
      fault: { faultCode: 'PAA_SEMANTICA' },
    });
  });

  it('nodeForPa flow list: requests and answers (nil entry skipped), KO', () => {
    expect(
      parseFlowListRequest(s.fixture('nodo-chiedi-elenco-flussi-rendicontazione.req.xml')),
    ).toEqual({
      caller: { brokerId: '15376371009', stationId: '15376371009_48', password: 'PLACEHOLDER1' },
      domainId: '80012345678',
    });
    expect(
      parseFlowListResponse(s.fixture('nodo-chiedi-elenco-flussi-rendicontazione.res.ok.xml')),
    ).toEqual({
      outcome: 'OK',
      totalReturned: 3,
      flows: [
        { flowId: '2026-11-02BCITITMM-S000000001', flowDateTime: '2026-11-02T06:30:12' },
        { flowId: '2026-11-03POSTE3-0000000042', flowDateTime: '2026-11-03T23:59:59.999+01:00' },
      ],
    });
    expect(
      parseFlowListResponse(s.fixture('nodo-chiedi-elenco-flussi-rendicontazione.res.ko.xml')),
    ).toMatchObject({
      outcome: 'KO',
      fault: { faultCode: 'PPT_AUTORIZZAZIONE', id: 'NodoDeiPagamentiSPC' },
    });
  });

  it('nodeForPa flow download: request, decoded document, extended fault', () => {
    expect(parseFlowRequest(s.fixture('nodo-chiedi-flusso-rendicontazione.req.xml'))).toEqual({
      caller: { brokerId: '15376371009', stationId: '15376371009_48', password: 'PLACEHOLDER1' },
      domainId: '80012345678',
      pspId: 'BCITITMM',
      flowId: '2026-11-02BCITITMM-S000000001',
    });
    expect(parseFlowResponse(s.fixture('nodo-chiedi-flusso-rendicontazione.res.ok.xml'))).toEqual({
      outcome: 'OK',
      flowXml: s.fixture('flusso-riversamento.document.xml'),
    });
    expect(parseFlowResponse(s.fixture('nodo-chiedi-flusso-rendicontazione.res.ko.xml'))).toEqual({
      outcome: 'KO',
      fault: {
        faultCode: 'PPT_ERRORE_EMESSO_DA_PAA',
        faultString: 'Errore restituito dalla PA',
        id: 'NodoDeiPagamentiSPC',
        serial: 1,
        originalFaultCode: 'PPT_ID_FLUSSO_SCONOSCIUTO',
        originalFaultString: 'Identificativo flusso sconosciuto',
        originalDescription: '2026-11-02BCITITMM-S000000009',
      },
    });
  });

  it('parsePaForNodeRequest dispatches every request fixture on its body element', () => {
    const cases: [string, string][] = [
      ['pa-verify-payment-notice.req.xml', 'paVerifyPaymentNotice'],
      ['pa-get-payment.req.full.xml', 'paGetPayment'],
      ['pa-get-payment-v2.req.xml', 'paGetPaymentV2'],
      ['pa-send-rt.req.multi-transfer.xml', 'paSendRT'],
      ['pa-send-rt-v2.req.stamp.xml', 'paSendRTV2'],
      ['pa-demand-payment-notice.req.xml', 'paDemandPaymentNotice'],
    ];
    for (const [file, operation] of cases) {
      expect(parsePaForNodeRequest(s.fixture(file)).operation).toBe(operation);
    }
    expect(codeOf(() => parsePaForNodeRequest(s.fixture('pa-send-rt.res.ok.xml')))).toBe(
      'unknown-operation',
    );
    expect(codeOf(() => parsePaSendRtRequest(s.fixture('pa-get-payment.req.minimal.xml')))).toBe(
      'unknown-operation',
    );
  });
});

// ------------------------------------------------------------------------------------------------

describe('build -> parse round trips', () => {
  it('paVerifyPaymentNotice request and every response variant', () => {
    expect(
      parsePaVerifyPaymentNoticeRequest(buildPaVerifyPaymentNoticeRequest(s.verifyRequest)),
    ).toEqual(s.verifyRequest);
    for (const [, r] of entries(s.verifyResponses)) {
      expect(parsePaVerifyPaymentNoticeResponse(buildPaVerifyPaymentNoticeResponse(r))).toEqual(r);
    }
  });

  it.each(entries(s.getPaymentRequests))('paGetPayment request %s', (_n, r) => {
    expect(parsePaGetPaymentRequest(buildPaGetPaymentRequest(r))).toEqual(r);
  });

  it.each(entries(s.getPaymentResponses))(
    'paGetPayment response %s',
    (_n, { version, response }) => {
      expect(parsePaGetPaymentResponse(buildPaGetPaymentResponse(version, response))).toEqual({
        version,
        ...response,
      });
    },
  );

  it.each(entries(s.sendRtRequests))('paSendRT request %s', (_n, r) => {
    expect(parsePaSendRtRequest(buildPaSendRtRequest(r))).toEqual(r);
    // Through the dispatcher too, as the SOAP server will read it.
    expect(parsePaForNodeRequest(buildPaSendRtRequest(r)).request).toEqual(r);
  });

  it.each(entries(s.sendRtResponses))('paSendRT response %s', (_n, { version, response }) => {
    expect(parsePaSendRtResponse(buildPaSendRtResponse(version, response))).toEqual({
      version,
      ...response,
    });
  });

  it('paDemandPaymentNotice request, responses and the card top-up document', () => {
    expect(
      parsePaDemandPaymentNoticeRequest(buildPaDemandPaymentNoticeRequest(s.demandRequest)),
    ).toEqual(s.demandRequest);
    for (const [, r] of entries(s.demandResponses)) {
      expect(parsePaDemandPaymentNoticeResponse(buildPaDemandPaymentNoticeResponse(r))).toEqual(r);
    }
    expect(parseCardTopUpDocument(buildCardTopUpDocument(s.cardTopUp))).toEqual(s.cardTopUp);
  });

  it('nodeForPa requests and responses', () => {
    for (const [, r] of entries(s.flowListRequests))
      expect(parseFlowListRequest(buildFlowListRequest(r))).toEqual(r);
    for (const [, r] of entries(s.flowListResponses))
      expect(parseFlowListResponse(buildFlowListResponse(r))).toEqual(r);
    for (const [, r] of entries(s.flowRequests))
      expect(parseFlowRequest(buildFlowRequest(r))).toEqual(r);
    for (const [, r] of entries(s.flowResponses))
      expect(parseFlowResponse(buildFlowResponse(r))).toEqual(r);
  });

  it('special characters survive (escaping): & < > " \' and accented letters', () => {
    const receipt: Receipt = {
      ...s.minimalReceipt,
      description: `Retta <nido> & "mensa" l'anno più caro`,
      debtor: { ...s.minimalSubject, fullName: "Niccolò D'Àngelo & <figli>" },
    };
    const req = { version: 1 as const, station: s.station, receipt };
    expect(parsePaSendRtRequest(buildPaSendRtRequest(req)).receipt).toEqual(receipt);
  });

  it('amounts: every cent value in range survives format -> parse exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99_999_999_999 }), (cents) => {
        const receipt: Receipt = {
          ...s.minimalReceipt,
          amountCents: cents,
          transfers: [{ ...s.minimalReceipt.transfers[0]!, amountCents: cents }],
        };
        const parsed = parsePaSendRtRequest(
          buildPaSendRtRequest({ version: 2, station: s.station, receipt }),
        );
        return (
          parsed.receipt.amountCents === cents && parsed.receipt.transfers[0]?.amountCents === cents
        );
      }),
      { numRuns: 300 },
    );
    expect(formatCents(1, 'x', { notZero: true })).toBe('0.01');
    expect(formatCents(123456, 'x', { notZero: false })).toBe('1234.56');
    expect(formatCents(99_999_999_999, 'x', { notZero: false })).toBe('999999999.99');
  });
});

// ------------------------------------------------------------------------------------------------

describe('canonical receipt form', () => {
  it('has a fixed key order, whatever the sender did with prefixes and spellings', () => {
    const fromFixture = parsePaSendRtRequest(
      s.fixture('pa-send-rt.req.multi-transfer.xml'),
    ).receipt;
    const unprefixed = s
      .fixture('pa-send-rt.req.multi-transfer.xml')
      .replace(/<(\/?)pafn:/g, '<$1')
      .replace(/<(\/?)soapenv:/g, '<$1S:')
      .replace('xmlns:soapenv=', 'xmlns:S=');
    const rebuilt = parsePaSendRtRequest(
      buildPaSendRtRequest({ version: 1, station: s.station, receipt: fromFixture }),
    ).receipt;
    expect(JSON.stringify(parsePaSendRtRequest(unprefixed).receipt)).toBe(
      JSON.stringify(fromFixture),
    );
    expect(JSON.stringify(rebuilt)).toBe(JSON.stringify(fromFixture));
    expect(Object.keys(fromFixture)).toEqual([
      'receiptId',
      'noticeNumber',
      'domainFiscalCode',
      'outcome',
      'iuv',
      'amountCents',
      'description',
      'companyName',
      'officeName',
      'debtor',
      'transfers',
      'psp',
      'payer',
      'paymentMethod',
      'feeCents',
      'paymentDateTime',
      'applicationDate',
      'transferDate',
      'metadata',
      'standIn',
    ]);
    expect(Object.keys(fromFixture.transfers[0]!)).toEqual([
      'transferId',
      'amountCents',
      'domainFiscalCode',
      'iban',
      'remittanceInformation',
      'transferCategory',
      'metadata',
    ]);
  });
});

// ------------------------------------------------------------------------------------------------

describe('strict amounts and identifiers', () => {
  const base = s.fixture('pa-send-rt.req.minimal.xml');
  const withPaymentAmount = (v: string): string =>
    base.replace('<paymentAmount>45.60</paymentAmount>', `<paymentAmount>${v}</paymentAmount>`);
  const withTransferAmount = (v: string): string =>
    base.replace('<transferAmount>45.60</transferAmount>', `<transferAmount>${v}</transferAmount>`);

  it.each([
    '45.6',
    '45',
    '45.600',
    '-45.60',
    '+45.60',
    '4.5e1',
    '45,60',
    '',
    '1000000000.00',
    ' .60',
    '0x10.00',
  ])('rejects paymentAmount %p', (v) => {
    expect(codeOf(() => parsePaSendRtRequest(withPaymentAmount(v)))).toBe('xml-schema-invalid');
  });

  it('names the element in the error', () => {
    expect(messageOf(() => parsePaSendRtRequest(withPaymentAmount('45.6')))).toContain(
      '/paSendRTReq/receipt/paymentAmount',
    );
  });

  it.each([
    ['0.00', 0],
    ['007.50', 750],
    ['999999999.99', 99_999_999_999],
    [' 45.60 ', 4560],
  ])('accepts paymentAmount %p as %p cents', (v, cents) => {
    expect(parsePaSendRtRequest(withPaymentAmount(v)).receipt.amountCents).toBe(cents);
  });

  it('rejects a zero transferAmount (stAmountNotZero) but accepts 0.01', () => {
    expect(codeOf(() => parsePaSendRtRequest(withTransferAmount('0.00')))).toBe(
      'xml-schema-invalid',
    );
    expect(parsePaSendRtRequest(withTransferAmount('0.01')).receipt.transfers[0]?.amountCents).toBe(
      1,
    );
  });

  it.each([
    [
      'noticeNumber 17 digits',
      '<noticeNumber>302032002700000251<',
      '<noticeNumber>30203200270000025<',
    ],
    [
      'noticeNumber with a letter',
      '<noticeNumber>302032002700000251<',
      '<noticeNumber>30203200270000025A<',
    ],
    ['fiscalCode 10 digits', '<fiscalCode>80012345678<', '<fiscalCode>8001234567<'],
    [
      'transfer fiscalCodePA with a letter',
      '<fiscalCodePA>80012345678<',
      '<fiscalCodePA>8001234567X<',
    ],
    ['idTransfer 6', '<idTransfer>1<', '<idTransfer>6<'],
    ['idTransfer 0', '<idTransfer>1<', '<idTransfer>0<'],
    ['empty receiptId', '<receiptId>c110729279e2441d8ee5c3f6e8a2f4a1<', '<receiptId><'],
    [
      'receiptId of 36 chars',
      '<receiptId>c110729279e2441d8ee5c3f6e8a2f4a1<',
      `<receiptId>${'a'.repeat(36)}<`,
    ],
    [
      'creditorReferenceId of 36 chars',
      '<creditorReferenceId>02032002700000251<',
      `<creditorReferenceId>${'1'.repeat(36)}<`,
    ],
    ['outcome MAYBE', '<outcome>OK<', '<outcome>MAYBE<'],
    [
      'entityUniqueIdentifierType X',
      '<entityUniqueIdentifierType>F<',
      '<entityUniqueIdentifierType>X<',
    ],
    ['a missing IBAN', /<IBAN>[^<]*<\/IBAN>/, ''],
    ['a missing idPSP', /<idPSP>[^<]*<\/idPSP>/, ''],
    ['standIn maybe', '</receipt>', '<standIn>maybe</standIn></receipt>'],
  ] as [string, string | RegExp, string][])('rejects %s', (_name, from, to) => {
    const xml = base.replace(from, to);
    expect(xml).not.toBe(base);
    expect(codeOf(() => parsePaSendRtRequest(xml))).toBe('xml-schema-invalid');
  });

  it('rejects duplicate idTransfer values and more than five transfers', () => {
    const transfer = /<transfer>[\s\S]*?<\/transfer>/.exec(base)![0];
    const twice = base.replace(transfer, transfer + transfer);
    expect(messageOf(() => parsePaSendRtRequest(twice))).toContain('distinct');
    const six = base.replace(
      transfer,
      [1, 2, 3, 4, 5, 1]
        .map((i) => transfer.replace('<idTransfer>1<', `<idTransfer>${i}<`))
        .join(''),
    );
    expect(messageOf(() => parsePaSendRtRequest(six))).toContain('1..5 transfers');
  });

  it('rejects invalid calendar dates but accepts zones', () => {
    const withDate = (d: string): string =>
      base.replace(
        '</channelDescription>',
        `</channelDescription><applicationDate>${d}</applicationDate>`,
      );
    expect(parsePaSendRtRequest(withDate('2024-02-29+01:00')).receipt.applicationDate).toBe(
      '2024-02-29',
    );
    expect(parsePaSendRtRequest(withDate('2026-03-01Z')).receipt.applicationDate).toBe(
      '2026-03-01',
    );
    for (const bad of ['2026-02-29', '2026-13-01', '01/03/2026', '2026-3-1']) {
      expect(codeOf(() => parsePaSendRtRequest(withDate(bad)))).toBe('xml-schema-invalid');
    }
  });

  it('rejects a V2 marca da bollo with a bad province or non-base64 hash', () => {
    const v2 = s.fixture('pa-get-payment-v2.res.ok.stamp.xml');
    expect(
      codeOf(() =>
        parsePaGetPaymentResponse(v2.replace('<provinciaResidenza>LU<', '<provinciaResidenza>lu<')),
      ),
    ).toBe('xml-schema-invalid');
    expect(
      codeOf(() =>
        parsePaGetPaymentResponse(
          v2.replace(/<hashDocumento>[^<]*</, '<hashDocumento>not base64!<'),
        ),
      ),
    ).toBe('xml-schema-invalid');
  });

  it('rejects a card top-up document with a bad card code, account or amount', () => {
    const doc = buildCardTopUpDocument(s.cardTopUp);
    expect(codeOf(() => parseCardTopUpDocument(doc.replace('000123456742', '12AB')))).toBe(
      'xml-schema-invalid',
    );
    expect(codeOf(() => parseCardTopUpDocument(doc.replace('CANTEEN', 'GYM')))).toBe(
      'xml-schema-invalid',
    );
    expect(codeOf(() => parseCardTopUpDocument(doc.replace('50.00', '50')))).toBe(
      'xml-schema-invalid',
    );
    expect(codeOf(() => parseCardTopUpDocument(doc.replace('50.00', '0.00')))).toBe(
      'xml-schema-invalid',
    );
  });

  it('treats an OK answer without its data as a semantic error', () => {
    const ok = s
      .fixture('pa-get-payment.res.ok.multi-transfer.xml')
      .replace(/<data>[\s\S]*<\/data>/, '');
    expect(codeOf(() => parsePaGetPaymentResponse(ok))).toBe('xml-semantic-invalid');
    const verify = s
      .fixture('pa-verify-payment-notice.res.ok.minimal.xml')
      .replace(/<paymentList>[\s\S]*<\/paymentList>/, '');
    expect(codeOf(() => parsePaVerifyPaymentNoticeResponse(verify))).toBe('xml-semantic-invalid');
  });

  it('reports a SOAP Fault body as upstream-error', () => {
    const fault =
      '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' +
      '<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>boom</faultstring></soapenv:Fault>' +
      '</soapenv:Body></soapenv:Envelope>';
    expect(codeOf(() => parsePaSendRtResponse(fault))).toBe('upstream-error');
  });
});

// ------------------------------------------------------------------------------------------------

describe('unsafe documents', () => {
  it.each([
    [
      'paSendRT billion laughs',
      () => parsePaSendRtRequest(s.fixture('pa-send-rt.req.attack-doctype.xml')),
    ],
    [
      'paSendRT via dispatcher',
      () => parsePaForNodeRequest(s.fixture('pa-send-rt.req.attack-doctype.xml')),
    ],
    [
      'paVerify XXE (lower-case doctype)',
      () =>
        parsePaVerifyPaymentNoticeRequest(s.fixture('pa-verify-payment-notice.req.attack-xxe.xml')),
    ],
    [
      'card top-up document with an entity',
      () =>
        parseCardTopUpDocument(
          '<!DOCTYPE x [<!ENTITY a "b">]><cardTopUpRequest><cardCode>&a;</cardCode></cardTopUpRequest>',
        ),
    ],
    [
      'flow list answer',
      () =>
        parseFlowListResponse(
          `<!DOCTYPE x>${s.fixture('nodo-chiedi-elenco-flussi-rendicontazione.res.ok.xml').replace(/^<\?xml[^>]*>/, '')}`,
        ),
    ],
  ] as [string, () => unknown][])('refuses %s before parsing', (_n, fn) => {
    expect(codeOf(fn)).toBe('xml-forbidden-construct');
  });

  it('refuses a demand request whose base64 service document declares a DOCTYPE', () => {
    const req = buildPaDemandPaymentNoticeRequest({
      ...s.demandRequest,
      serviceDataXml: '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><cardTopUpRequest/>',
    });
    const parsed = parsePaDemandPaymentNoticeRequest(req);
    expect(codeOf(() => parseCardTopUpDocument(parsed.serviceDataXml))).toBe(
      'xml-forbidden-construct',
    );
  });

  it('refuses broken XML and invalid base64', () => {
    expect(codeOf(() => parsePaSendRtRequest('<soapenv:Envelope><soapenv:Body>'))).toBe(
      'xml-malformed',
    );
    const demand = s
      .fixture('pa-demand-payment-notice.req.xml')
      .replace(
        /<datiSpecificiServizioRequest>[^<]*</,
        '<datiSpecificiServizioRequest>%%%not-base64%%%<',
      );
    expect(codeOf(() => parsePaDemandPaymentNoticeRequest(demand))).toBe('xml-schema-invalid');
  });
});

// ------------------------------------------------------------------------------------------------

describe('builders refuse what would not validate', () => {
  const getPaymentOk = s.getPaymentResponses['V2 OK full']!;
  if (getPaymentOk.response.outcome !== 'OK') throw new Error('sample must be OK');
  const payment = getPaymentOk.response.payment;

  it.each([
    ['a marca da bollo in V1', () => buildPaGetPaymentResponse(1, { outcome: 'OK', payment })],
    [
      'V2 without companyName',
      () => {
        const rest = Object.fromEntries(
          Object.entries(payment).filter(([k]) => k !== 'companyName'),
        ) as unknown as typeof payment;
        expect(rest.companyName).toBeUndefined();
        return buildPaGetPaymentResponse(2, { outcome: 'OK', payment: rest });
      },
    ],
    [
      'an amount that is not the sum of the transfers',
      () =>
        buildPaGetPaymentResponse(2, {
          outcome: 'OK',
          payment: { ...payment, amountCents: payment.amountCents + 1 },
        }),
    ],
    [
      'six transfers',
      () =>
        buildPaGetPaymentResponse(2, {
          outcome: 'OK',
          payment: {
            ...payment,
            amountCents: 6 * 52,
            transfers: [1, 2, 3, 4, 5, 6].map((i) => ({ ...payment.transfers[0]!, transferId: i })),
          },
        }),
    ],
    [
      'fractional cents',
      () =>
        buildPaSendRtRequest({
          version: 1,
          station: s.station,
          receipt: { ...s.minimalReceipt, amountCents: 12.5 },
        }),
    ],
    [
      'negative cents',
      () =>
        buildPaSendRtRequest({
          version: 1,
          station: s.station,
          receipt: { ...s.minimalReceipt, feeCents: -1 },
        }),
    ],
    [
      'a zero transfer amount',
      () =>
        buildPaSendRtRequest({
          version: 1,
          station: s.station,
          receipt: {
            ...s.minimalReceipt,
            transfers: [{ ...s.minimalReceipt.transfers[0]!, amountCents: 0 }],
          },
        }),
    ],
    [
      'a 17-digit notice number',
      () =>
        buildPaSendRtRequest({
          version: 1,
          station: s.station,
          receipt: { ...s.minimalReceipt, noticeNumber: '1'.repeat(17) },
        }),
    ],
    [
      'V2-only fields in paSendRT V1',
      () =>
        buildPaSendRtRequest({
          version: 1,
          station: s.station,
          receipt: { ...s.minimalReceipt, bundleId: 'b' },
        }),
    ],
    [
      'a description over 140 chars',
      () =>
        buildPaSendRtRequest({
          version: 2,
          station: s.station,
          receipt: { ...s.minimalReceipt, description: 'x'.repeat(141) },
        }),
    ],
    [
      'a bad e-mail',
      () =>
        buildPaSendRtRequest({
          version: 2,
          station: s.station,
          receipt: { ...s.minimalReceipt, debtor: { ...s.minimalSubject, email: 'not an email' } },
        }),
    ],
    [
      'a zoned dueDate',
      () =>
        buildPaGetPaymentRequest({
          version: 1,
          station: s.station,
          notice: { domainFiscalCode: '80012345678', noticeNumber: '302032002700000251' },
          dueDate: '2026-12-31Z',
        }),
    ],
    [
      'a short station password',
      () => buildFlowListRequest({ caller: { brokerId: 'b', stationId: 's', password: 'short' } }),
    ],
    [
      'a 4-character idServizio',
      () => buildPaDemandPaymentNoticeRequest({ ...s.demandRequest, serviceId: '0042' }),
    ],
    [
      'a card code with letters',
      () => buildCardTopUpDocument({ ...s.cardTopUp, cardCode: 'AB123' }),
    ],
    ['a KO answer without faultBean', () => buildPaSendRtResponse(2, { outcome: 'KO' })],
  ] as [string, () => unknown][])('refuses %s', (_n, fn) => {
    expect(codeOf(fn)).toBe('invalid-input');
  });
});
