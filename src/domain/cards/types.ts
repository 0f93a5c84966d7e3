import type { Account, EntryKind } from '../../data-access/ledger-repository';
import type { Holder } from './holder';

/** A registered card, as the use cases and routes see it. */
export type Card = {
  id: number;
  domainId: string;
  cardNumber: string;
  cardCode: string;
  holder: Holder;
  createdAt: Date;
};

export type CardAccount = {
  id: number;
  account: Account;
  balanceCents: number;
  overdraftLimitCents: number;
};

/** One line of a card's payment history. */
export type Movement = {
  id: number;
  account: Account;
  amountCents: number;
  kind: EntryKind;
  reference: string | null;
  description: string | null;
  balanceAfterCents: number;
  createdAt: Date;
};

/** Who made a manual posting and why: written to the audit trail with the entry. */
export type AuditNote = {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  reason: string;
  requestId: string;
};
