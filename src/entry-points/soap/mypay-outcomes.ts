import express, { type Express, type RequestHandler } from 'express';
import { z } from 'zod';
import { verifyPushJwt } from '../../adapters/mypay/push-jwt';
import { decodePagati, pagatiToReceipt } from '../../adapters/mypay/pagati-receipt';
import { AppError } from '../../domain/errors';
import { acceptReceipt, type AcceptReceiptDeps } from '../../domain/receipts/accept-receipt';
import type { Domains } from '../../shared/domains-config';
import { requestLogger } from '../http/app';

/**
 * MyPay's outcome push: `POST /mypay/v1/outcomes` on the inbound (SOAP) port.
 *
 * Why the inbound port and not the ERP API's: it is the port exposed to the payment systems
 * upstream (the pagoPA node, MyPay), behind the same reverse proxy or in-process TLS; the API port
 * faces the ERP only and authenticates with ERP keys, which MyPay has none of. The `soap` role
 * holds the receipt intake (inbox + reconcile queue producer), so a push is handled exactly where
 * a paaInviaRT is.
 *
 * The request (JSON, at most {@link PUSH_BODY_LIMIT_BYTES}):
 *   `Authorization: Bearer <JWT HS256, signed with MYPAY_PUSH_JWT_SECRET, exp required>`
 *   `{ "pagati": "<base64 of the Pagati document>", "idSession": "<MyPay idSession>" }`
 * `idSession` (paaSILInviaDovuti's) is required: it links the outcome to the payment attempt it
 * closes, so an outcome without money (not paid, time limit) closes that attempt too, and the
 * poller stops asking about it.
 * The answer, after the receipt is committed: 200 `{ outcome: "OK", receiptId, state, duplicate }`
 * (an identical push again is `duplicate: true` and changes nothing; an unknown IUV is stored
 * QUARANTINED and still answered 200, since money has moved). Errors are problem+json: 401 no or
 * bad token, 400 not JSON / not the shape / not a Pagati, 413 too large, 422 a Pagati breaking its
 * rules, 409 the same outcome resent with other content (recorded as a conflict), 503 the
 * database is down (MyPay should push again). Nothing is stored for a 4xx but the 409.
 */

export const MYPAY_OUTCOMES_PATH = '/mypay/v1/outcomes';

/** A Pagati has at most 5 lines: a few KB, under 10 KB in base64. Anything far larger is not one. */
export const PUSH_BODY_LIMIT_BYTES = 64 * 1024;

export type MyPayOutcomesOptions = {
  domains: Domains;
  intake: AcceptReceiptDeps;
  /** Undefined: pushes are accepted unsigned (configuration allowed it, see service.ts). */
  auth: { secret: string; issuer?: string } | undefined;
};

const PushBody = z.strictObject({
  pagati: z.string().min(1).max(PUSH_BODY_LIMIT_BYTES),
  idSession: z.string().min(1).max(100),
});

/** 401 with the reason; the token itself is never logged. */
function requireToken(auth: { secret: string; issuer?: string }): RequestHandler {
  return (req, res, next) => {
    const header = req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const check =
      match?.[1] === undefined
        ? ({ ok: false, reason: 'missing' } as const)
        : verifyPushJwt(match[1], {
            secret: auth.secret,
            ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
          });
    if (check.ok) {
      next();
      return;
    }
    requestLogger(res).warn({ reason: check.reason }, 'mypay push refused: bad bearer token');
    res.setHeader('WWW-Authenticate', 'Bearer realm="mypay-outcomes"');
    next(
      new AppError(
        'unauthenticated',
        check.reason === 'missing'
          ? 'a bearer token (JWT HS256) is required'
          : `the bearer token is not valid (${check.reason})`,
        { reason: check.reason },
      ),
    );
  };
}

/**
 * Mounts the push endpoint. Call it before the app's shared body parsers: this route reads its
 * own body with its own limit (see createHttpApp's `mountFirst`).
 */
export function mountMyPayOutcomes(app: Express, o: MyPayOutcomesOptions): void {
  const handlers: RequestHandler[] = [];
  if (o.auth !== undefined) handlers.push(requireToken(o.auth));
  handlers.push(express.raw({ type: () => true, limit: PUSH_BODY_LIMIT_BYTES }));
  handlers.push(async (req, res) => {
    if (!req.is('application/json')) {
      throw new AppError('invalid-input', 'Content-Type must be application/json');
    }
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new AppError('invalid-input', 'the request body is not valid JSON');
    }
    const body = PushBody.safeParse(json);
    if (!body.success) {
      throw new AppError(
        'invalid-input',
        body.error.issues.map((i) => `body.${i.path.join('.')}: ${i.message}`).join('; '),
      );
    }
    const { xml, paid } = decodePagati(body.data.pagati);
    const domain = o.domains.find(paid.domainId);
    const misdirected =
      domain !== undefined && domain.dialect !== 'mypay'
        ? `MyPay pushed an outcome for domain ${paid.domainId}, which is a ${domain.dialect} domain`
        : undefined;
    const receipt = pagatiToReceipt(paid, xml, {
      brokerId: domain?.brokerFiscalCode ?? 'MYPAY',
      stationId: domain?.stationId ?? 'MYPAY',
      sessionId: body.data.idSession,
      ...(misdirected === undefined ? {} : { misdirected }),
    });
    const log = requestLogger(res);
    const result = await acceptReceipt(o.intake, receipt, log);
    log.info(
      { receiptId: result.receiptId, result: result.kind, iuv: paid.iuv },
      'mypay outcome pushed',
    );
    res.json(
      result.kind === 'accepted'
        ? { outcome: 'OK', receiptId: result.receiptId, state: result.state, duplicate: false }
        : { outcome: 'OK', receiptId: result.receiptId, duplicate: true },
    );
  });
  app.post(MYPAY_OUTCOMES_PATH, ...handlers);
}
