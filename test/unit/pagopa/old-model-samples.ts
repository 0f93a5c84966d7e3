/**
 * Minimal and full typed samples of every old-model document and SOAP body, shared by the unit
 * and conformance tests. Values are real-shaped (PAGOPA.md examples: 77777777777_01 stations,
 * aux-digit-0 IUVs, taxonomy codes) but fictitious.
 */
import fs from 'node:fs';
import path from 'node:path';
import type {
  PaymentReceipt,
  PaymentRequest,
  RevenueStamp,
} from '../../../src/adapters/pagopa/rpt-rt';
import type { ReportingFlow } from '../../../src/adapters/pagopa/reporting-flow';
import type { FaultBean, PptHeader } from '../../../src/adapters/pagopa/old-model-soap';

export const fixturesDir = path.resolve(__dirname, '..', '..', '..', 'fixtures');
export const fixture = (rel: string): string =>
  fs.readFileSync(path.join(fixturesDir, rel), 'utf8');

export const debtor = { kind: 'F', taxCode: 'VRDLGU85M41A662Z', name: 'Luigia Verdi' } as const;
export const fullPerson = {
  kind: 'F',
  taxCode: 'RSSMRA80A01F205X',
  name: 'Mario Rossi',
  street: 'Via Roma',
  civicNumber: '10',
  postalCode: '70121',
  city: 'Bari',
  province: 'BA',
  country: 'IT',
  email: 'mario.rossi@example.it',
} as const;
export const creditor = { taxCode: '77777777777', name: 'Comune di Prova' };
export const fullCreditor = {
  taxCode: '77777777777',
  name: 'Comune di Prova',
  unitCode: 'UO-TRIB',
  unitName: 'Ufficio Tributi',
  street: 'Piazza del Municipio',
  civicNumber: '1',
  postalCode: '70100',
  city: 'Bari',
  province: 'BA',
  country: 'IT',
};

export const minimalRpt: PaymentRequest = {
  version: '6.2.0',
  domain: { domainId: '77777777777' },
  requestMessageId: 'RPT-0001',
  requestDateTime: '2024-03-15T10:20:00',
  authentication: 'N/A',
  debtor,
  creditor,
  executionDate: '2024-03-15',
  totalCents: 2500,
  paymentType: 'BBT',
  iuv: '02000000000012345',
  ccp: 'n/a',
  lines: [
    {
      amountCents: 2500,
      creditIban: 'IT60X0542811101000000123456',
      remittanceInformation: '/RFB/02000000000012345/25.00/TXT/Mensa scolastica',
      collectionData: '9/0107101TS/',
    },
  ],
};

export const fullRpt: PaymentRequest = {
  ...minimalRpt,
  domain: { domainId: '77777777777', requestingStationId: '77777777777_01' },
  authentication: 'USR',
  payer: fullPerson,
  debtor: { ...fullPerson, kind: 'G', taxCode: '01234567890', name: 'Acme S.r.l.' },
  creditor: fullCreditor,
  totalCents: 4100,
  paymentType: 'PO',
  debitIban: 'IT02L1234512345123456789012',
  debitBic: 'BCITITMM',
  lines: [
    {
      amountCents: 2500,
      creditorFeeCents: 50,
      creditIban: 'IT60X0542811101000000123456',
      creditBic: 'BPPIITRRXXX',
      supportIban: 'IT02L1234512345123456789012',
      supportBic: 'BCITITMM',
      payerCredentials: 'CRED-1',
      remittanceInformation: 'Diritti di segreteria & bolli <certificato>',
      collectionData: '9/0103100TS/',
    },
    {
      amountCents: 1600,
      remittanceInformation: 'Imposta di bollo',
      collectionData: '9/0115103TS/',
      stamp: {
        stampType: '01',
        documentHash: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
        province: 'BA',
      },
    },
  ],
};

export const minimalRt: PaymentReceipt = {
  version: '6.2.0',
  domain: { domainId: '77777777777' },
  receiptMessageId: 'RT-0001',
  receiptDateTime: '2024-03-15T10:22:31',
  requestMessageRef: 'RPT-0001',
  requestDateRef: '2024-03-15',
  attestingPsp: { idKind: 'B', taxCode: 'BCITITMM', name: 'Banca di Prova' },
  creditor,
  debtor,
  outcome: 3,
  totalPaidCents: 0,
  iuv: '02000000000012345',
  ccp: 'n/a',
  lines: [],
};

export const stamp: RevenueStamp = {
  pspTaxCode: '01234567890',
  pspName: 'PSP Bolli S.p.A.',
  stampId: '01234567890123',
  purchasedAt: '2024-03-15T10:22:30.000+01:00',
  amountCents: 1600,
  stampType: '01',
  documentDigest: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
  signatureXml:
    '<ds:Signature><ds:SignedInfo>' +
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>' +
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>' +
    '<ds:Reference URI=""><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>' +
    '<ds:DigestValue>q1w2e3r4t5y6u7i8o9p0q1w2e3r4t5y6u7i8o9p0q1w=</ds:DigestValue></ds:Reference>' +
    '</ds:SignedInfo><ds:SignatureValue>ZmFrZQ==</ds:SignatureValue></ds:Signature>',
};

export const fullRt = (stampB64: string): PaymentReceipt => ({
  ...minimalRt,
  domain: { domainId: '77777777777', requestingStationId: '77777777777_01' },
  attestingPsp: {
    idKind: 'G',
    taxCode: '01234567890',
    name: 'Banca di Prova',
    unitCode: 'AG1',
    unitName: 'Agenzia 1',
    street: 'Via Sparano',
    civicNumber: '5',
    postalCode: '70121',
    city: 'Bari',
    province: 'BA',
    country: 'IT',
  },
  creditor: fullCreditor,
  payer: fullPerson,
  debtor: { ...fullPerson, name: 'Mario Rossi' },
  outcome: 2,
  totalPaidCents: 4100,
  lines: [
    {
      paidCents: 2500,
      outcomeDate: '2024-03-15',
      iur: 'CRO0000012345678',
      remittanceInformation: '/RFB/02000000000012345/25.00',
      collectionData: '9/0103100TS/',
      pspFeeCents: 150,
      creditorFeeCents: 10,
      attachment: { kind: 'ES', contentBase64: 'ZXNpdG8gb3JpZ2luYXJpbw==' },
    },
    {
      paidCents: 1600,
      outcomeDate: '2024-03-15',
      iur: 'IUBD-01234567890123',
      remittanceInformation: 'Imposta di bollo',
      collectionData: '9/0115103TS/',
      attachment: { kind: 'BD', contentBase64: stampB64 },
    },
    {
      paidCents: 0,
      outcomeText: 'Versamento non eseguito',
      outcomeDate: '2024-03-15',
      iur: '0',
      remittanceInformation: 'Trasporto scolastico',
      collectionData: '9/0107102SP/',
    },
  ],
});

export const minimalFlow: ReportingFlow = {
  version: '1.0',
  flowId: '2024-03-16BCITITMM-0001',
  flowDateTime: '2024-03-17T08:15:00',
  settlementId: 'Bonifico SEPA-03069-AABB0',
  settlementDate: '2024-03-16',
  sender: { idKind: 'B', id: 'BCITITMM' },
  receiver: { taxCode: '77777777777' },
  totalCount: 1,
  totalCents: 2500,
  payments: [
    {
      iuv: '02000000000012345',
      iur: 'CRO0000012345678',
      amountCents: 2500,
      outcome: 0,
      outcomeDate: '2024-03-15',
    },
  ],
};

export const fullFlow = (codes: readonly (0 | 3 | 4 | 8 | 9)[]): ReportingFlow => ({
  ...minimalFlow,
  version: '1.1',
  sender: { idKind: 'A', id: '03069', name: 'Banca di Prova' },
  senderBankBic: 'BCITITMM',
  receiver: { taxCode: '77777777777', name: 'Comune di Prova' },
  totalCount: codes.length,
  totalCents: codes.length * 1000,
  payments: codes.map((outcome, i) => ({
    iuv: `0200000000001234${i}`,
    iur: `IUR-${i}`,
    transferIndex: (i % 5) + 1,
    amountCents: 1000,
    outcome,
    outcomeDate: '2024-03-15',
  })),
});

export const header: PptHeader = {
  brokerId: '77777777777',
  stationId: '77777777777_01',
  domainId: '77777777777',
  iuv: '02000000000012345',
  ccp: 'n/a',
};

export const fullFault: FaultBean = {
  faultCode: 'PPT_ERRORE_EMESSO_DA_PAA',
  faultString: 'Errore restituito dalla PAA',
  id: 'NodoDeiPagamentiSPC',
  description: 'see original',
  serial: 1,
  originalFaultCode: 'PAA_SEMANTICA',
  originalFaultString: 'Errore semantico',
  originalDescription: 'importo diverso',
};

export const minimalFault: FaultBean = {
  faultCode: 'PAA_SYSTEM_ERROR',
  faultString: 'Errore',
  id: '77777777777',
};

export const credentials = {
  brokerId: '77777777777',
  stationId: '77777777777_01',
  password: 'Passw0rd!',
};
