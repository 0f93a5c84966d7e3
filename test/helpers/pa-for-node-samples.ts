/**
 * Typed sample messages for the new-model (paForNode) and nodeForPa builders: a minimal variant
 * (required fields only) and a full variant (every optional field) of each, shared by the unit
 * tests, the XSD conformance tests and the benchmark.
 */
import fs from 'node:fs';
import path from 'node:path';
import type {
  Fault,
  PaDemandPaymentNoticeRequest,
  PaDemandPaymentNoticeResponse,
  PaGetPaymentRequest,
  PaGetPaymentResponse,
  PaSendRtRequest,
  PaSendRtResponse,
  PaVerifyPaymentNoticeRequest,
  PaVerifyPaymentNoticeResponse,
  Receipt,
  StationRef,
  Subject,
} from '../../src/adapters/pagopa/pa-for-node';
import { buildCardTopUpDocument } from '../../src/adapters/pagopa/pa-for-node';
import type {
  FlowListRequest,
  FlowListResponse,
  FlowRequest,
  FlowResponse,
} from '../../src/adapters/pagopa/node-for-pa';

export const fixturesDir = path.resolve(__dirname, '..', '..', 'fixtures', 'soap', 'new-model');
export const fixture = (name: string): string =>
  fs.readFileSync(path.join(fixturesDir, name), 'utf8');

export const station: StationRef = {
  domainId: '80012345678',
  brokerId: '15376371009',
  stationId: '15376371009_48',
};
const notice = { domainFiscalCode: '80012345678', noticeNumber: '302032002700000251' };

export const minimalSubject: Subject = {
  idType: 'F',
  idValue: 'RSSMRA80A01E715X',
  fullName: 'Mario Rossi',
};
export const fullSubject: Subject = {
  idType: 'G',
  idValue: '01234567890',
  fullName: 'Cooperativa Sociale "Esempio" & C.',
  streetName: 'Via dei Mille',
  civicNumber: '7/B',
  postalCode: '55012',
  city: 'Capannori',
  province: 'LU',
  country: 'IT',
  email: 'amministrazione@coop-esempio.it',
};

export const minimalFault: Fault = {
  faultCode: 'PAA_PAGAMENTO_SCONOSCIUTO',
  faultString: 'Pagamento sconosciuto',
  id: '80012345678',
};
export const fullFault: Fault = {
  faultCode: 'PAA_SEMANTICA',
  faultString: 'Errore semantico',
  id: '80012345678',
  description: 'amount <0.01> not allowed',
  serial: 2,
  originalFaultCode: 'X',
  originalFaultString: 'Y',
  originalDescription: 'Z',
};

// ------------------------------------------------------------------------------------------------
// paVerifyPaymentNotice

export const verifyRequest: PaVerifyPaymentNoticeRequest = { station, notice };
export const verifyResponses: Record<string, PaVerifyPaymentNoticeResponse> = {
  'OK minimal': {
    outcome: 'OK',
    paymentOption: { amountCents: 1, amountOption: 'EQ', allPostal: false },
  },
  'OK full': {
    outcome: 'OK',
    paymentOption: {
      amountCents: 99_999_999_999,
      amountOption: 'EQ',
      dueDate: '2026-12-31',
      detailDescription: 'Trasporto scolastico novembre',
      allPostal: true,
    },
    paymentDescription: 'Trasporto scolastico novembre 2026',
    domainFiscalCode: '80012345678',
    companyName: 'Comune di Esempio',
    officeName: 'Ufficio Scuola',
  },
  'KO minimal': { outcome: 'KO', fault: minimalFault },
  'KO full': { outcome: 'KO', fault: fullFault },
};

// ------------------------------------------------------------------------------------------------
// paGetPayment / V2

export const getPaymentRequests: Record<string, PaGetPaymentRequest> = {
  'V1 minimal': { version: 1, station, notice },
  'V1 full': {
    version: 1,
    station,
    notice,
    amountCents: 0,
    paymentNote: 'idCart 3c1e0f04',
    transferType: 'POSTAL',
    dueDate: '2026-12-31',
  },
  'V2 minimal': { version: 2, station, notice },
  'V2 full': {
    version: 2,
    station,
    notice,
    amountCents: 4560,
    paymentNote: 'n'.repeat(210),
    transferType: 'PAGOPA',
    dueDate: '2026-02-28',
  },
};

export const getPaymentResponses: Record<
  string,
  { version: 1 | 2; response: PaGetPaymentResponse }
> = {
  'V1 OK minimal': {
    version: 1,
    response: {
      outcome: 'OK',
      payment: {
        iuv: '02032002700000251',
        amountCents: 4560,
        dueDate: '2026-12-31',
        description: 'Ricarica mensa',
        debtor: minimalSubject,
        transfers: [
          {
            transferId: 1,
            amountCents: 4560,
            domainFiscalCode: '80012345678',
            iban: 'IT60X0542811101000000123456',
            remittanceInformation: '/RFB/02032002700000251/45.60',
            transferCategory: '0107101TS',
          },
        ],
      },
    },
  },
  'V1 OK full': {
    version: 1,
    response: {
      outcome: 'OK',
      payment: {
        iuv: '02032002700000251',
        amountCents: 12050,
        dueDate: '2026-12-31',
        retentionDate: '2027-01-31T23:59:59.000+01:00',
        lastPayment: true,
        description: 'Verbale 1234/2026',
        companyName: 'Comune di Esempio',
        officeName: 'Polizia Municipale',
        debtor: fullSubject,
        transfers: [1, 2, 3, 4, 5].map((i) => ({
          transferId: i,
          amountCents: i === 1 ? 12046 : 1,
          domainFiscalCode: i === 5 ? '01199250158' : '80012345678',
          iban: 'IT60X0542811101000000123456',
          remittanceInformation: `Quota ${i}`,
          transferCategory: '0102100SA',
          metadata: [{ key: 'capitolo', value: `30${i}0` }],
        })),
        metadata: Array.from({ length: 15 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
      },
    },
  },
  'V2 OK minimal': {
    version: 2,
    response: {
      outcome: 'OK',
      payment: {
        iuv: '48172725623804858',
        amountCents: 1600,
        dueDate: '2026-12-31',
        description: 'Marca da bollo',
        companyName: 'Comune di Esempio',
        debtor: minimalSubject,
        transfers: [
          {
            transferId: 1,
            amountCents: 1600,
            domainFiscalCode: '80012345678',
            stamp: {
              hashDocument: 'pXdjX3tiNkPbCu4XVt08xPAR2lNfs8qGWbe0mHe0Kzc=',
              stampType: '01',
              provincialResidence: 'LU',
            },
            remittanceInformation: 'Marca da bollo',
            transferCategory: '0115103TS',
          },
        ],
      },
    },
  },
  'V2 OK full': {
    version: 2,
    response: {
      outcome: 'OK',
      payment: {
        iuv: '48172725623804858',
        amountCents: 1652,
        dueDate: '2026-12-31',
        retentionDate: '2027-01-31T10:00:00Z',
        lastPayment: false,
        description: 'Certificato in bollo',
        companyName: 'Comune di Esempio',
        officeName: 'Anagrafe',
        debtor: fullSubject,
        transfers: [
          {
            transferId: 1,
            amountCents: 52,
            domainFiscalCode: '80012345678',
            companyName: 'Comune di Esempio',
            iban: 'IT60X0542811101000000123456',
            remittanceInformation: 'Diritti di segreteria',
            transferCategory: '0104103SP',
            metadata: [{ key: 'DatiSpecificiRiscossione', value: '9/0104103SP/' }],
          },
          {
            transferId: 2,
            amountCents: 1600,
            domainFiscalCode: '80012345678',
            companyName: 'Comune di Esempio',
            stamp: {
              hashDocument: 'pXdjX3tiNkPbCu4XVt08xPAR2lNfs8qGWbe0mHe0Kzc=',
              stampType: '01',
              provincialResidence: 'LU',
            },
            remittanceInformation: 'Marca da bollo',
            transferCategory: '0115103TS',
            metadata: [{ key: 'bollo', value: 'certificato' }],
          },
        ],
        metadata: [{ key: 'pratica', value: 'CERT-2026-0042' }],
      },
    },
  },
  'V1 KO': { version: 1, response: { outcome: 'KO', fault: fullFault } },
  'V2 KO': { version: 2, response: { outcome: 'KO', fault: minimalFault } },
};

// ------------------------------------------------------------------------------------------------
// paSendRT / V2

export const minimalReceipt: Receipt = {
  receiptId: 'c110729279e2441d8ee5c3f6e8a2f4a1',
  noticeNumber: '302032002700000251',
  domainFiscalCode: '80012345678',
  outcome: 'OK',
  iuv: '02032002700000251',
  amountCents: 4560,
  description: 'Ricarica mensa',
  companyName: 'Comune di Esempio',
  debtor: minimalSubject,
  transfers: [
    {
      transferId: 1,
      amountCents: 4560,
      domainFiscalCode: '80012345678',
      iban: 'IT60X0542811101000000123456',
      remittanceInformation: 'Ricarica mensa',
      transferCategory: '0107101TS',
    },
  ],
  psp: {
    id: 'POSTE3',
    companyName: 'Poste Italiane',
    channelId: '97103880585_01',
    channelDescription: 'NA',
  },
};

const fullV1Receipt: Receipt = {
  receiptId: '7e3a1b0c9d8f4e2aa1b2c3d4e5f60718',
  noticeNumber: '001721265093769322',
  domainFiscalCode: '80012345678',
  outcome: 'OK',
  iuv: '721265093769322',
  amountCents: 25075,
  description: 'Retta nido e mensa ottobre 2026',
  companyName: 'Comune di Esempio',
  officeName: 'Servizi Educativi',
  debtor: fullSubject,
  transfers: [
    {
      transferId: 1,
      amountCents: 20000,
      domainFiscalCode: '80012345678',
      iban: 'IT60X0542811101000000123456',
      remittanceInformation: 'Retta nido',
      transferCategory: '0107106SP',
      metadata: [{ key: 'capitolo', value: '3010/2' }],
    },
    {
      transferId: 2,
      amountCents: 5000,
      domainFiscalCode: '80012345678',
      iban: 'IT02L1234512345123456789012',
      remittanceInformation: 'Mensa nido',
      transferCategory: '0107101TS',
    },
    {
      transferId: 3,
      amountCents: 75,
      domainFiscalCode: '01199250158',
      iban: 'IT40S0542811101000000123456',
      remittanceInformation: 'Quota provinciale',
      transferCategory: '0103100TS',
    },
  ],
  psp: {
    id: 'BCITITMM',
    fiscalCode: '00799960158',
    vatNumber: '10810700152',
    companyName: 'Intesa Sanpaolo S.p.A',
    channelId: '00799960158_01',
    channelDescription: 'app',
  },
  payer: minimalSubject,
  paymentMethod: 'creditCard',
  feeCents: 150,
  paymentDateTime: '2026-10-15T17:48:22.123+02:00',
  applicationDate: '2026-10-15',
  transferDate: '2026-10-16',
  metadata: [{ key: 'origine', value: 'app IO' }],
  standIn: false,
};

const fullV2Receipt: Receipt = {
  ...fullV1Receipt,
  amountCents: 21600,
  transfers: [
    {
      ...fullV1Receipt.transfers[0]!,
      companyName: 'Comune di Esempio',
    },
    {
      transferId: 2,
      amountCents: 1600,
      domainFiscalCode: '80012345678',
      companyName: 'Comune di Esempio',
      stamp: { documentBase64: Buffer.from('<marcaDaBollo/>').toString('base64') },
      remittanceInformation: 'Marca da bollo',
      transferCategory: '0115103TS',
    },
  ],
  paymentNote: 'idCart 3c1e0f04',
  primaryCreditorFeeCents: 20,
  bundleId: '1a2b3c4d-0000-4000-8000-000000000001',
  creditorBundleId: '1a2b3c4d-0000-4000-8000-000000000002',
  standIn: true,
};

export const sendRtRequests: Record<string, PaSendRtRequest> = {
  'V1 minimal': { version: 1, station, receipt: minimalReceipt },
  'V1 full': { version: 1, station, receipt: fullV1Receipt },
  'V2 minimal': { version: 2, station, receipt: minimalReceipt },
  'V2 full': { version: 2, station, receipt: fullV2Receipt },
};

export const sendRtResponses: Record<string, { version: 1 | 2; response: PaSendRtResponse }> = {
  'V1 OK': { version: 1, response: { outcome: 'OK' } },
  'V2 OK': { version: 2, response: { outcome: 'OK' } },
  'V1 KO': { version: 1, response: { outcome: 'KO', fault: minimalFault } },
  'V2 KO': {
    version: 2,
    response: { outcome: 'KO', fault: { ...fullFault, faultCode: 'PAA_RECEIPT_DUPLICATA' } },
  },
};

// ------------------------------------------------------------------------------------------------
// paDemandPaymentNotice

export const cardTopUp = {
  cardCode: '000123456742',
  account: 'CANTEEN',
  amountCents: 5000,
} as const;

export const demandRequest: PaDemandPaymentNoticeRequest = {
  station,
  serviceId: '00042',
  serviceSubjectId: '00001',
  serviceDataXml: buildCardTopUpDocument(cardTopUp),
};

export const demandResponses: Record<string, PaDemandPaymentNoticeResponse> = {
  'OK minimal': {
    outcome: 'OK',
    notice,
    paymentOption: { amountCents: 5000, amountOption: 'EQ', allPostal: false },
  },
  'OK full': {
    outcome: 'OK',
    notice,
    paymentOption: {
      amountCents: 5000,
      amountOption: 'ANY',
      dueDate: '2026-11-30',
      detailDescription: 'Ricarica mensa',
      allPostal: false,
    },
    paymentDescription: 'Ricarica mensa scolastica',
    domainFiscalCode: '80012345678',
    companyName: 'Comune di Esempio',
    officeName: 'Ufficio Scuola',
  },
  KO: { outcome: 'KO', fault: fullFault },
};

// ------------------------------------------------------------------------------------------------
// nodeForPa

const caller = { brokerId: '15376371009', stationId: '15376371009_48', password: 'Placeholder1' };

export const flowListRequests: Record<string, FlowListRequest> = {
  minimal: { caller },
  full: { caller, domainId: '80012345678', pspId: 'BCITITMM' },
};

export const flowListResponses: Record<string, FlowListResponse> = {
  'OK empty': { outcome: 'OK', totalReturned: 0, flows: [] },
  'OK full': {
    outcome: 'OK',
    totalReturned: 2,
    flows: [
      { flowId: '2026-11-02BCITITMM-S000000001', flowDateTime: '2026-11-02T06:30:12' },
      { flowId: '2026-11-03POSTE3-0000000042', flowDateTime: '2026-11-03T23:59:59.999+01:00' },
    ],
  },
  KO: {
    outcome: 'KO',
    fault: { ...fullFault, faultCode: 'PPT_AUTORIZZAZIONE', id: 'NodoDeiPagamentiSPC' },
  },
};

export const flowRequests: Record<string, FlowRequest> = {
  minimal: { caller, flowId: '2026-11-02BCITITMM-S000000001' },
  full: {
    caller,
    domainId: '80012345678',
    pspId: 'BCITITMM',
    flowId: '2026-11-02BCITITMM-S000000001',
  },
};

export const flowResponses: Record<string, FlowResponse> = {
  'OK without document (SFTP)': { outcome: 'OK' },
  'OK with document': { outcome: 'OK', flowXml: fixture('flusso-riversamento.document.xml') },
  KO: { outcome: 'KO', fault: minimalFault },
};
