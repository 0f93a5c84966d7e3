/** Typed MyPay samples (fictitious, real-shaped) shared by the codec and client tests. */
import type { MyPayDueImport, MyPayDues, MyPayPaid } from '../../../src/adapters/mypay/documents';

export const payer = {
  kind: 'F',
  taxCode: 'RSSMRA80A01F205X',
  name: 'Mario Rossi',
  street: 'Via Roma',
  civicNumber: '10',
  postalCode: '76121',
  city: 'Barletta',
  province: 'BT',
  country: 'IT',
  email: 'mario.rossi@example.it',
} as const;

export const dues: MyPayDues = {
  payer,
  items: [
    {
      dueId: 'TOPUP-2024-000001',
      amountCents: 2500,
      dueTypeCode: 'MENSA_SCOLASTICA',
      remittanceInformation: 'Ricarica tessera dei sapori 0001234',
      collectionData: '9/0107101TS/',
    },
    {
      dueId: 'BOLLO-2024-000001',
      amountCents: 1600,
      creditorFeeCents: 0,
      dueTypeCode: 'BOLLO',
      remittanceInformation: 'Imposta di bollo',
      collectionData: '9/0115103TS/',
      stamp: { documentHash: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', province: 'BT' },
    },
  ],
};

export const dueImport: MyPayDueImport = {
  action: 'I',
  payer,
  dueDate: '2024-12-31',
  dueId: 'TRASP-2024-11-0001',
  amountCents: 3000,
  dueTypeCode: 'TRASPORTO_SCOLASTICO',
  remittanceInformation: 'Trasporto scolastico novembre 2024',
  collectionData: '9/0107102SP/',
  generateIuv: true,
};

export const paid: MyPayPaid = {
  domainId: '80000000002',
  receiptMessageId: 'RT-MYPAY-0001',
  receiptDateTime: '2024-03-15T10:21:00',
  requestMessageRef: 'RPT-MYPAY-0001',
  requestDateRef: '2024-03-15',
  attestingPsp: { idKind: 'B', id: 'BCITITMM', name: 'Banca di Prova' },
  creditor: { taxCode: '80000000002', name: 'Comune di Porto Chiaro' },
  payer,
  outcome: 0,
  totalPaidCents: 2500,
  iuv: '05000000000012345',
  ccp: 'c110729d258c4ab1b765fe902aae41d6',
  lines: [
    {
      dueId: 'TOPUP-2024-000001',
      paidCents: 2500,
      outcomeText: 'ESEGUITO',
      outcomeDate: '2024-03-15',
      iur: 'IUR-0000012345',
      remittanceInformation: 'Ricarica tessera dei sapori 0001234',
      collectionData: '9/0107101TS/',
    },
  ],
};
