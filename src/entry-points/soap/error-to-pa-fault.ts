import type { ErrorCode } from '../../domain/errors';

/** Which pagoPA generation a primitive belongs to: a few fault codes differ between them. */
export type SoapModel = 'new' | 'old';

/**
 * The PAA fault code of each error code, per PAGOPA.md §6. Exhaustive on purpose: a new error code
 * does not compile until someone decides what the node is told.
 */
export function paaFaultCodeFor(code: ErrorCode, model: SoapModel): string {
  switch (code) {
    case 'xml-malformed':
    case 'xml-forbidden-construct':
    case 'xml-schema-invalid':
    case 'unknown-operation':
    case 'invalid-input':
    case 'payload-too-large':
      return 'PAA_SINTASSI_EXTRAXSD';
    case 'xml-embedded-invalid':
      return 'PAA_SINTASSI_XSD';
    case 'xml-semantic-invalid':
    case 'amount-invalid':
    case 'notice-number-invalid':
    case 'iuv-invalid':
    case 'rf-invalid':
    case 'card-code-invalid':
    case 'payment-code-invalid':
    case 'amount-mismatch':
    case 'insufficient-credit':
    case 'conflict':
    case 'idempotency-conflict':
      return 'PAA_SEMANTICA';
    case 'domain-unknown':
      return 'PAA_ID_DOMINIO_ERRATO';
    case 'broker-unknown':
    case 'unauthenticated':
    case 'forbidden':
      return 'PAA_ID_INTERMEDIARIO_ERRATO';
    case 'station-unknown':
      return 'PAA_STAZIONE_INT_ERRATA';
    case 'not-found':
      return 'PAA_PAGAMENTO_SCONOSCIUTO';
    case 'position-paid':
      return 'PAA_PAGAMENTO_DUPLICATO';
    case 'position-cancelled':
      return 'PAA_PAGAMENTO_ANNULLATO';
    case 'position-expired':
      return 'PAA_PAGAMENTO_SCADUTO';
    case 'payment-in-progress':
      return 'PAA_PAGAMENTO_IN_CORSO';
    case 'receipt-modified':
      return model === 'new' ? 'PAA_RECEIPT_DUPLICATA' : 'PAA_RT_DUPLICATA';
    case 'dependency-down':
    case 'upstream-error':
    case 'internal':
      // The node retries a system error: right for anything that may work next time.
      return 'PAA_SYSTEM_ERROR';
  }
}

/** The faultString that goes with a code: short, constant, in the spec's own words. */
export const FAULT_STRINGS: Readonly<Record<string, string>> = {
  PAA_SINTASSI_EXTRAXSD: 'Errore di sintassi extra XSD.',
  PAA_SINTASSI_XSD: 'Errore di sintassi XSD.',
  PAA_SEMANTICA: 'Errore semantico.',
  PAA_ID_DOMINIO_ERRATO: 'La PAA non corrisponde al Dominio indicato.',
  PAA_ID_INTERMEDIARIO_ERRATO: 'Identificativo intermediario non corrispondente.',
  PAA_STAZIONE_INT_ERRATA: 'Stazione intermediario non corrispondente.',
  PAA_PAGAMENTO_SCONOSCIUTO: 'Pagamento in attesa risulta sconosciuto all’Ente Creditore.',
  PAA_PAGAMENTO_DUPLICATO: 'Pagamento in attesa risulta concluso all’Ente Creditore.',
  PAA_PAGAMENTO_ANNULLATO: 'Pagamento in attesa risulta annullato all’Ente Creditore.',
  PAA_PAGAMENTO_SCADUTO: 'Pagamento in attesa risulta scaduto all’Ente Creditore.',
  PAA_PAGAMENTO_IN_CORSO: 'Pagamento in attesa risulta in corso all’Ente Creditore.',
  PAA_RECEIPT_DUPLICATA: 'La receipt è già stata ricevuta con un contenuto diverso.',
  PAA_RT_DUPLICATA: 'La RT è già stata accettata con un contenuto diverso.',
  PAA_RPT_SCONOSCIUTA: 'La RPT risulta sconosciuta.',
  PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO: "L'importo del pagamento in attesa non è congruente.",
  PAA_SYSTEM_ERROR: 'Errore generico.',
};
