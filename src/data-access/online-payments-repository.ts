import type { Knex } from 'knex';

/**
 * What an EC-initiated payment start leaves behind: its payment attempts with the channel, the
 * CCP (RT model), the upstream session and the redirect, and the documents sent upstream
 * (`sent_payment_requests`). The upstream call itself is made by the caller, before this.
 */

export type StartedChannel = 'CHECKOUT' | 'RPT' | 'MYPAY';

export type StartedRecord = {
  readonly channel: StartedChannel;
  readonly redirectUrl: string;
  readonly sessionId?: string | undefined;
  readonly ccpByPaymentId?: Readonly<Record<string, string>> | undefined;
  readonly documents?:
    | readonly {
        readonly paymentId: string;
        readonly kind: 'RPT' | 'DOVUTI';
        readonly iuv: string | null;
        readonly ccp: string | null;
        readonly xml: string;
      }[]
    | undefined;
};

const URL_MAX = 1000;
const SESSION_MAX = 100;

const sessionOf = (started: StartedRecord, cartId: string | null): string | null =>
  (started.sessionId ?? cartId)?.slice(0, SESSION_MAX) ?? null;

/** New PENDING attempts for the lines of a started cart (POST …/checkout), with what was sent. */
export async function insertStartedAttempts(
  trx: Knex.Transaction,
  input: {
    domainId: string;
    cartId: string;
    returnUrl: string;
    lines: readonly {
      paymentId: string;
      debtPositionId: number;
      paymentOptionId: number;
      amountCents: number;
    }[];
    started: StartedRecord;
  },
): Promise<void> {
  const { started } = input;
  const now = new Date();
  await trx('payment_attempts').insert(
    input.lines.map((l) => ({
      payment_id: l.paymentId,
      debt_position_id: l.debtPositionId,
      payment_option_id: l.paymentOptionId,
      channel: started.channel,
      status: 'PENDING',
      amount_cents: l.amountCents,
      ccp: started.ccpByPaymentId?.[l.paymentId] ?? null,
      // Checkout has no session of its own: the cart id finds the cart's attempts together.
      session_id: sessionOf(started, input.cartId),
      checkout_url: started.redirectUrl.slice(0, URL_MAX),
      return_url: input.returnUrl,
      created_at: now,
      updated_at: now,
    })),
  );
  await insertDocuments(trx, input.domainId, input.cartId, started, now);
}

/**
 * Records the start of a top-up on its attempt, unless one was recorded already (a concurrent
 * retry won): answers false then, and nothing is written.
 *
 * The channel: a Checkout cart leaves TOP_UP (both are new-model pagoPA, found by notice number);
 * RPT and MYPAY name the protocol the follow-up needs (nodoChiediCopiaRT by CCP, paaSILChiediPagati
 * by session).
 */
export async function recordStartedTopUp(
  db: Knex,
  input: { paymentId: string; domainId: string; started: StartedRecord },
): Promise<boolean> {
  const { started } = input;
  return db.transaction(async (trx) => {
    const now = new Date();
    const updated = await trx('payment_attempts')
      .where({ payment_id: input.paymentId })
      .whereNull('checkout_url')
      .update({
        ...(started.channel === 'CHECKOUT' ? {} : { channel: started.channel }),
        ccp: started.ccpByPaymentId?.[input.paymentId] ?? null,
        session_id: started.sessionId?.slice(0, SESSION_MAX) ?? null,
        checkout_url: started.redirectUrl.slice(0, URL_MAX),
        updated_at: now,
      });
    if (updated === 0) return false;
    await insertDocuments(trx, input.domainId, null, started, now);
    return true;
  });
}

async function insertDocuments(
  trx: Knex.Transaction,
  domainId: string,
  cartId: string | null,
  started: StartedRecord,
  now: Date,
): Promise<void> {
  const documents = started.documents ?? [];
  if (documents.length === 0) return;
  const rows = (await trx('payment_attempts')
    .whereIn(
      'payment_id',
      documents.map((d) => d.paymentId),
    )
    .select('id', 'payment_id')) as { id: number | string; payment_id: string }[];
  const idOf = new Map(rows.map((r) => [r.payment_id, Number(r.id)]));
  await trx('sent_payment_requests').insert(
    documents.flatMap((d) => {
      const attemptId = idOf.get(d.paymentId);
      return attemptId === undefined
        ? []
        : [
            {
              payment_attempt_id: attemptId,
              kind: d.kind,
              domain_id: domainId,
              iuv: d.iuv,
              ccp: d.ccp,
              cart_id: cartId,
              session_id: started.sessionId?.slice(0, SESSION_MAX) ?? null,
              document: d.xml,
              sent_at: now,
            },
          ];
    }),
  );
}

/** The documents sent for a payment attempt, oldest first (operators, tests). */
export async function listSentRequests(
  db: Knex,
  paymentId: string,
): Promise<
  {
    kind: 'RPT' | 'DOVUTI';
    iuv: string | null;
    ccp: string | null;
    cartId: string | null;
    sessionId: string | null;
    sentAt: Date;
    document: string;
  }[]
> {
  const rows = (await db('sent_payment_requests as s')
    .join('payment_attempts as a', 'a.id', 's.payment_attempt_id')
    .where('a.payment_id', paymentId)
    .orderBy('s.id')
    .select(
      's.kind',
      's.iuv',
      's.ccp',
      's.cart_id',
      's.session_id',
      's.sent_at',
      's.document',
    )) as {
    kind: 'RPT' | 'DOVUTI';
    iuv: string | null;
    ccp: string | null;
    cart_id: string | null;
    session_id: string | null;
    sent_at: Date;
    document: string;
  }[];
  return rows.map((r) => ({
    kind: r.kind,
    iuv: r.iuv,
    ccp: r.ccp,
    cartId: r.cart_id,
    sessionId: r.session_id,
    sentAt: r.sent_at,
    document: r.document,
  }));
}
