import { findPositionByNotice } from '../../../data-access/notice-lookup-repository';
import type { StoredOption, StoredPosition } from '../../../data-access/positions-repository';
import { AppError } from '../../../domain/errors';
import { romeDate } from '../../../domain/positions/dates';
import {
  payableNotice,
  type NoticeKey,
  type PayableNotice,
} from '../../../domain/positions/payable-notice';
import type { DomainConfig } from '../../../shared/domains-config';
import type { SoapDeps } from '../index';

/**
 * What the notice primitives share: today's day, the lookup of the notice a request names and the
 * verdict on it, and the few wire choices made once (metadata, debtor e-mail).
 */

/** Today in Rome: amounts in force and due dates are Italian calendar days. */
export const today = (): string => romeDate(new Date());

export type LoadedNotice = {
  position: StoredPosition;
  notice: PayableNotice<StoredOption>;
};

/**
 * The notice `key` names in `domain`, if payable today.
 * @throws AppError('not-found' | 'position-paid' | 'position-cancelled' | 'position-expired')
 * (PAA_PAGAMENTO_SCONOSCIUTO / _DUPLICATO / _ANNULLATO / _SCADUTO).
 */
export async function loadPayableNotice(
  deps: SoapDeps,
  domain: DomainConfig,
  key: NoticeKey,
  opts: { postal: boolean },
): Promise<LoadedNotice> {
  const position = await findPositionByNotice(deps.db, domain.fiscalCode, key);
  if (position === undefined) {
    const what = 'noticeNumber' in key ? `notice ${key.noticeNumber}` : `IUV ${key.iuv}`;
    throw new AppError('not-found', `${what} is unknown to ${domain.fiscalCode}`);
  }
  return { position, notice: payableNotice(position, key, today(), opts) };
}

/**
 * The qrCode's fiscalCode is the notice's creditor: a notice of another EC is not ours to answer,
 * even when the same station serves both.
 * @throws AppError('not-found') (PAA_PAGAMENTO_SCONOSCIUTO).
 */
export function assertOwnNotice(idPA: string, noticeFiscalCode: string): void {
  if (noticeFiscalCode !== idPA) {
    throw new AppError(
      'not-found',
      `qrCode.fiscalCode ${noticeFiscalCode} differs from idPA ${idPA}: the notice is not ${idPA}'s`,
    );
  }
}

/**
 * Payment metadata returned in paGetPayment and echoed by the receipt (paSendRTV2): what the
 * accounting office needs to reconcile without personal data.
 */
export function paymentMetadata(position: StoredPosition): { key: string; value: string }[] {
  return [
    { key: 'serviceCode', value: position.service },
    { key: 'debtPositionId', value: position.externalId.slice(0, 140) },
  ];
}

// The e-mail pattern of ctSubject (sac-common-types): an address the ERP accepted may still break
// it, and then it is left out rather than making the whole answer invalid.
const XSD_EMAIL = /^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/;

export const xsdEmail = (email: string | null): string | undefined =>
  email !== null && email.length <= 256 && XSD_EMAIL.test(email) ? email : undefined;
