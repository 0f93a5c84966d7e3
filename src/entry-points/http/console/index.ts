import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { queueInventory } from '../../../adapters/reconcile-jobs';
import {
  listActivatedSends,
  resendActivatedSends,
} from '../../../data-access/activated-rpt-sends-repository';
import { listAudit } from '../../../data-access/audit-repository';
import {
  attachQuarantined,
  countReceiptsByState,
  findReceiptDetail,
  listAwaitingReceipts,
  listReceipts,
  markRefundedOutside,
  releaseQuarantined,
  toAuditLine,
} from '../../../data-access/operations-repository';
import { listOutboxEvents, redeliverOutboxEvents } from '../../../data-access/outbox-repository';
import { AppError, toAppError } from '../../../domain/errors';
import { reportToCsv } from '../../../domain/reconciliation/report';
import {
  consoleReportQuery,
  reconciliationPageBody,
  reconciliationReport,
} from '../api/reconciliation-routes';
import { ACTIVATED_RPT_STATES } from '../../../domain/operations/activated-rpts';
import { centsToDecimal, humanAge, prettyXml } from '../../../domain/operations/formats';
import { REASON_MAX_CHARS, REPLAY_LIMIT_MAX } from '../../../domain/operations/replay';
import {
  INVENTORY_STATES,
  type Actor,
  type InventoryState,
  type ReplayItem,
} from '../../../domain/operations/types';
import { toProblem } from '../error-to-problem';
import { createAuthenticator } from '../api/auth';
import type { ApiDeps } from '../api/index';
import {
  attachTargetOf,
  auditCsv,
  inspectReceipt,
  jobsOf,
  opsQueues,
  replayWith,
} from '../api/ops-routes';
import { decodeCursor, encodeCursor } from '../api/payments-routes';
import { html, page, type Html, type NavItem } from './html';
import {
  csrfMatches,
  readCookie,
  SESSION_COOKIE,
  SessionStore,
  type ConsoleSession,
} from './sessions';

/**
 * The operators' web console at `/ops/`: server-rendered HTML (no build step, no script), the
 * same inventory, inspect and replay use cases as the ops API and the CLI, and the BullMQ
 * dashboard (bull-board, read-only: replays go through the audited use case) at `/ops/queues`.
 *
 * Login takes an operator key (checked like an API key, never stored); the session lives on the
 * server (see sessions.ts). Every POST carries the session's CSRF token. Actions are audited as
 * `console:<key name>`.
 */

const SESSION_TTL_MS = 8 * 3_600_000;
const SESSION_IDLE_MS = 30 * 60_000;
const PAGE_SIZE = 50;
const FORM_BODY_LIMIT = '16kb';

type Locals = { session: ConsoleSession };

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function mountConsole(app: Express, deps: ApiDeps): void {
  const sessions = new SessionStore({ ttlMs: SESSION_TTL_MS, idleMs: SESSION_IDLE_MS });
  const authenticate = createAuthenticator({
    db: deps.db,
    configured: deps.config.apiKeys,
    allowDemoKeys: deps.config.env !== 'production',
  });
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT }));

  const send = (res: Response, status: number, body: string): void => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    res.status(status).type('html').send(body);
  };
  const sessionOf = (res: Response): ConsoleSession => (res.locals as Locals).session;
  const render = (res: Response, title: string, nav: NavItem, body: Html) => {
    const session = sessionOf(res);
    const flash = session.flash;
    session.flash = undefined;
    send(
      res,
      200,
      page(title, body, { nav, csrfToken: session.csrfToken, operator: session.operator, flash }),
    );
  };
  const actorOf = (res: Response, reason: string): Actor => ({
    name: `console:${sessionOf(res).operator}`.slice(0, 100),
    reason,
    requestId: String(res.locals['requestId']),
  });
  const cookie = (req: Request, value: string, maxAgeS: number): string =>
    `${SESSION_COOKIE}=${value}; Path=/ops; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${req.secure ? '; Secure' : ''}`;

  const loginPage = (error?: string): string =>
    page(
      'Log in',
      html`<form method="post" action="/ops/login">
        <label>Operator key <input type="password" name="key" autocomplete="off" required /></label>
        <button type="submit">Log in</button>
      </form>`,
      error === undefined ? {} : { flash: { kind: 'error', text: error } },
    );

  router.get('/login', (_req, res) => send(res, 200, loginPage()));
  router.post(
    '/login',
    wrap(async (req, res) => {
      const key =
        typeof req.body === 'object' && req.body !== null
          ? (req.body as Record<string, unknown>)['key']
          : undefined;
      if (typeof key !== 'string' || key === '' || key.length > 200) {
        send(res, 401, loginPage('Enter an operator key.'));
        return;
      }
      try {
        const principal = await authenticate(`Bearer ${key}`);
        if (!principal.roles.includes('operator')) {
          send(res, 403, loginPage('This key is not an operator key.'));
          return;
        }
        const session = sessions.create(principal.name);
        res.setHeader('set-cookie', cookie(req, session.id, SESSION_TTL_MS / 1000));
        res.redirect(303, '/ops/receipts');
      } catch (err) {
        if (toAppError(err).code !== 'unauthenticated') throw err;
        send(res, 401, loginPage('Unknown or revoked key.'));
      }
    }),
  );

  // Everything below needs a session; POSTs also need the session's CSRF token.
  const requireSession: RequestHandler = (req, res, next) => {
    const session = sessions.find(readCookie(req.header('cookie'), SESSION_COOKIE));
    if (session === undefined) {
      if (req.method === 'GET') res.redirect(303, '/ops/login');
      else send(res, 401, loginPage('Your session has ended: log in again.'));
      return;
    }
    if (req.method === 'POST') {
      const token = (req.body as Record<string, unknown> | undefined)?.['_csrf'];
      if (!csrfMatches(session, token)) {
        send(
          res,
          403,
          page('Forbidden', html`<p>The form has expired: reload the page and try again.</p>`),
        );
        return;
      }
    }
    (res.locals as Locals).session = session;
    next();
  };

  // bull-board, behind the same login; read-only, so that every replay is audited.
  const board = new ExpressAdapter();
  board.setBasePath('/ops/queues');
  const boardQueues = [deps.reconcileQueue, deps.billingQueue].filter((q) => q !== undefined);
  createBullBoard({
    queues: boardQueues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
    serverAdapter: board,
  });
  app.use('/ops/queues', requireSession, board.getRouter() as RequestHandler);

  router.use(requireSession);

  router.post('/logout', (req, res) => {
    sessions.destroy(sessionOf(res).id);
    res.setHeader('set-cookie', cookie(req, '', 0));
    res.redirect(303, '/ops/login');
  });

  router.get('/', (_req, res) => res.redirect(303, '/ops/receipts'));

  router.get(
    '/receipts',
    wrap(async (req, res) => {
      const q = req.query as Record<string, string | undefined>;
      const state = INVENTORY_STATES.includes(q['state'] as InventoryState)
        ? (q['state'] as InventoryState)
        : undefined;
      const filter = {
        state,
        domainId: nonEmpty(q['domain']),
        iuv: nonEmpty(q['iuv']),
        reasonContains: nonEmpty(q['reason']),
      };
      const fetched = await listReceipts(deps.db, filter, {
        beforeId: decodeCursor('console-receipts', nonEmpty(q['cursor'])),
        limit: PAGE_SIZE + 1,
      });
      const items = fetched.slice(0, PAGE_SIZE);
      const last = items[items.length - 1];
      const counts = await countReceiptsByState(deps.db);
      const now = new Date();
      const query = (extra: Record<string, string>) =>
        `?${new URLSearchParams({ ...definedOnly({ state, domain: filter.domainId, iuv: filter.iuv, reason: filter.reasonContains }), ...extra }).toString()}`;
      const setReplay =
        state === 'FAILED'
          ? html`<fieldset>
              <legend>Replay every matching FAILED receipt (oldest first)</legend>
              <form method="post" action="/ops/receipts/replay">
                ${hidden(sessionOf(res))}
                <input type="hidden" name="domain" value="${filter.domainId ?? ''}" />
                <input type="hidden" name="iuv" value="${filter.iuv ?? ''}" />
                <input type="hidden" name="reasonContains" value="${filter.reasonContains ?? ''}" />
                <label
                  >at most
                  <input
                    type="number"
                    name="limit"
                    min="1"
                    max="${REPLAY_LIMIT_MAX}"
                    value="50"
                    required
                /></label>
                <label
                  >reason <input name="reason" size="40" maxlength="${REASON_MAX_CHARS}" required
                /></label>
                <button name="execute" value="false">Preview</button>
                <button name="execute" value="true">Replay</button>
              </form>
            </fieldset>`
          : html``;
      render(
        res,
        'Receipts',
        'receipts',
        html`<p class="tabs">
            <a href="/ops/receipts">All</a>
            ${INVENTORY_STATES.map((s) => html`<a href="/ops/receipts?state=${s}">${s} (${counts[s] ?? 0})</a>`)}
          </p>
          <form method="get" action="/ops/receipts" id="filters">
            <select name="state" aria-label="state">
              <option value="">any state</option>
              ${INVENTORY_STATES.map((s) => html`<option value="${s}" ${s === state ? 'selected' : ''}>${s}</option>`)}
            </select>
            <input name="domain" placeholder="domain" value="${filter.domainId ?? ''}" size="12" />
            <input name="iuv" placeholder="IUV" value="${filter.iuv ?? ''}" size="20" />
            <input
              name="reason"
              placeholder="reason contains"
              value="${filter.reasonContains ?? ''}"
            />
            <button type="submit">Filter</button>
          </form>
          ${setReplay}
          <table id="receipts">
            <thead>
              <tr>
                <th>ID</th>
                <th>State</th>
                <th>Reason</th>
                <th>Age</th>
                <th>Domain</th>
                <th>IUV</th>
                <th>Amount</th>
                <th>Conflicts</th>
              </tr>
            </thead>
            <tbody>
              ${items.map(
                (r) =>
                  html`<tr>
                    <td><a href="/ops/receipts/${r.id}">${r.id}</a></td>
                    <td><span class="state ${r.state}">${r.state}</span></td>
                    <td>${(r.reason ?? '').slice(0, 120)}</td>
                    <td>${humanAge(r.receivedAt, now)}</td>
                    <td>${r.domainId}</td>
                    <td>${r.iuv}</td>
                    <td class="num">${centsToDecimal(r.amountCents)}</td>
                    <td class="num">${r.conflicts > 0 ? r.conflicts : ''}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
          ${items.length === 0 ? html`<p>No receipts match.</p>` : html``}
          ${
            fetched.length > PAGE_SIZE && last !== undefined
              ? html`<a
                  href="/ops/receipts${query({ cursor: encodeCursor('console-receipts', last.id) })}"
                  >Next page →</a
                >`
              : html``
          }`,
      );
    }),
  );

  router.post(
    '/receipts/replay',
    wrap(async (req, res) => {
      const body = req.body as Record<string, string | undefined>;
      const execute = body['execute'] === 'true';
      const limit = Number(body['limit']);
      const report = await replayWith(
        deps,
        {
          filter: {
            state: 'FAILED',
            domainId: nonEmpty(body['domain']),
            iuv: nonEmpty(body['iuv']),
            reasonContains: nonEmpty(body['reasonContains']),
          },
          limit: Number.isInteger(limit) ? limit : 0,
        },
        { execute, actor: actorOf(res, body['reason'] ?? '') },
      );
      render(
        res,
        execute ? 'Replay done' : 'Replay preview (nothing changed)',
        'receipts',
        html`${replayTable(report.items)}
          <p>
            ${Object.entries(report.counts)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}
          </p>
          <a href="/ops/receipts?state=FAILED">Back to FAILED receipts</a>`,
      );
    }),
  );

  router.get(
    '/receipts/:id',
    wrap(async (req, res) => {
      const id = idParam(req.params['id']);
      const { receipt: r, job } = await inspectReceipt(deps, id);
      const session = sessionOf(res);
      const now = new Date();
      const actions: Html[] = [];
      if (r.state === 'FAILED' || r.state === 'RECEIVED') {
        actions.push(
          html`<fieldset>
            <legend>Replay</legend>
            <form method="post" action="/ops/receipts/${r.id}/replay" id="replay">
              ${hidden(session)}
              <label
                >reason <input name="reason" size="50" maxlength="${REASON_MAX_CHARS}" required
              /></label>
              <button name="execute" value="false">Preview</button>
              <button name="execute" value="true">Replay</button>
            </form>
          </fieldset>`,
        );
      }
      if (r.state === 'QUARANTINED') {
        actions.push(
          html`<fieldset>
            <legend>Quarantine</legend>
            <form method="post" action="/ops/receipts/${r.id}/attach">
              ${hidden(session)}
              <label>position <input name="position" placeholder="external id" /></label> or
              <label>card <input name="cardCode" placeholder="card code" /></label>
              <select name="account" aria-label="account">
                <option>CANTEEN</option>
                <option>NURSERY_MEALS</option>
                <option>SCHOOL_TRANSPORT</option>
              </select>
              <label>reason <input name="reason" required maxlength="${REASON_MAX_CHARS}" /></label>
              <button>Attach</button>
            </form>
            <form method="post" action="/ops/receipts/${r.id}/release">
              ${hidden(session)}
              <label>reason <input name="reason" required maxlength="${REASON_MAX_CHARS}" /></label>
              <button ${r.debtPositionId === null ? 'disabled' : ''}>
                Release to reconciliation
              </button>
            </form>
          </fieldset>`,
        );
      }
      if (r.state === 'QUARANTINED' || r.state === 'FAILED') {
        actions.push(
          html`<fieldset>
            <legend>Refunded outside pagoPA</legend>
            <form method="post" action="/ops/receipts/${r.id}/refund">
              ${hidden(session)}
              <label
                >reason (refund reference)
                <input name="reason" required maxlength="${REASON_MAX_CHARS}"
              /></label>
              <button>Mark refunded</button>
            </form>
          </fieldset>`,
        );
      }
      render(
        res,
        `Receipt ${r.id}`,
        'receipts',
        html`<p><span class="state ${r.state}" id="state">${r.state}</span> ${r.reason ?? ''}</p>
          <table>
            <tr>
              <th>Domain</th>
              <td>${r.domainId}</td>
              <th>IUV</th>
              <td>${r.iuv}</td>
              <th>Receipt key</th>
              <td>${r.receiptKey}</td>
            </tr>
            <tr>
              <th>Notice</th>
              <td>${r.noticeNumber ?? '-'}</td>
              <th>Source</th>
              <td>${r.source}</td>
              <th>Outcome</th>
              <td>${r.outcome}</td>
            </tr>
            <tr>
              <th>Amount</th>
              <td>${centsToDecimal(r.amountCents)}</td>
              <th>Station</th>
              <td>${r.stationId ?? '-'}</td>
              <th>Received</th>
              <td>${r.receivedAt.toISOString()} (${humanAge(r.receivedAt, now)} ago)</td>
            </tr>
          </table>
          ${actions}
          <h2>History</h2>
          <table id="history">
            <tr>
              <th>At</th>
              <th>From</th>
              <th>To</th>
              <th>Actor</th>
              <th>Reason</th>
            </tr>
            ${r.history.map(
              (h) =>
                html`<tr>
                  <td>${h.at.toISOString()}</td>
                  <td>${h.from ?? '-'}</td>
                  <td>${h.to}</td>
                  <td>${h.actor}</td>
                  <td>${h.reason ?? ''}</td>
                </tr>`,
            )}
          </table>
          <h2>Job</h2>
          ${
            job === null
              ? html`<p>No job (or Redis unavailable).</p>`
              : html`<p>
                    ${job.jobId}: ${job.state}, ${job.attemptsMade}
                    attempt(s)${job.failedReason === null ? '' : `, failed: ${job.failedReason}`}
                  </p>
                  ${job.errors.length > 0 ? html`<pre>${job.errors.join('\n')}</pre>` : html``}`
          }
          <h2>Position</h2>
          ${
            r.position === null
              ? html`<p>None.</p>`
              : html`<p>
                    ${r.position.externalId} (${r.position.kind},
                    ${r.position.status}${r.position.cardId === null ? '' : `, card ${r.position.cardId} ${r.position.account ?? ''}`})
                  </p>
                  <table>
                    <tr>
                      <th>IUV</th>
                      <th>Notice</th>
                      <th>Amount</th>
                      <th>Paid</th>
                      <th>Status</th>
                    </tr>
                    ${r.position.options.map(
                      (o) =>
                        html`<tr>
                          <td>${o.iuv}</td>
                          <td>${o.noticeNumber}</td>
                          <td class="num">${centsToDecimal(o.amountCents)}</td>
                          <td class="num">${centsToDecimal(o.paidAmountCents)}</td>
                          <td>${o.status}</td>
                        </tr>`,
                    )}
                  </table>`
          }
          <h2>Ledger entries</h2>
          <table id="ledger">
            <tr>
              <th>ID</th>
              <th>Account</th>
              <th>Kind</th>
              <th>Amount</th>
              <th>Balance after</th>
              <th>Reverses</th>
              <th>At</th>
            </tr>
            ${r.ledgerEntries.map(
              (e) =>
                html`<tr>
                  <td>${e.id}</td>
                  <td>${e.cardAccountId}</td>
                  <td>${e.kind}</td>
                  <td class="num">${centsToDecimal(e.amountCents)}</td>
                  <td class="num">${centsToDecimal(e.balanceAfterCents)}</td>
                  <td>${e.reversesEntryId ?? ''}</td>
                  <td>${e.createdAt.toISOString()}</td>
                </tr>`,
            )}
          </table>
          <h2>Audit</h2>
          <table id="audit">
            <tr>
              <th>At</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Reason</th>
            </tr>
            ${r.audit.map(
              (a) =>
                html`<tr>
                  <td>${a.occurredAt.toISOString()}</td>
                  <td>${a.actor}</td>
                  <td>${a.action}</td>
                  <td>${a.reason ?? ''}</td>
                </tr>`,
            )}
          </table>
          ${
            r.conflictingContents.length > 0
              ? html`<h2>Conflicting resends</h2>
                  ${r.conflictingContents.map(
                    (c) =>
                      html`<p>${c.receivedAt.toISOString()} hash ${c.payloadHash}</p>
                        <pre>${prettyXml(c.rawXml)}</pre>`,
                  )}`
              : html``
          }
          <h2>Raw XML</h2>
          <pre id="raw-xml">${prettyXml(r.rawXml)}</pre>
          <h2>Parsed</h2>
          <pre>${JSON.stringify(r.parsed, null, 2)}</pre>`,
      );
    }),
  );

  const action =
    (
      run: (id: number, body: Record<string, string | undefined>, actor: Actor) => Promise<string>,
    ): RequestHandler =>
    (req, res, next) => {
      const id = idParam(req.params['id']);
      const body = req.body as Record<string, string | undefined>;
      const reason = (body['reason'] ?? '').trim();
      const session = sessionOf(res);
      const done = (flash: ConsoleSession['flash']) => {
        session.flash = flash;
        res.redirect(303, `/ops/receipts/${id}`);
      };
      if (reason === '' || reason.length > REASON_MAX_CHARS) {
        done({
          kind: 'error',
          text: `A reason (1 to ${REASON_MAX_CHARS} characters) is required.`,
        });
        return;
      }
      run(id, body, actorOf(res, reason)).then(
        (text) => done({ kind: 'ok', text }),
        (err: unknown) => {
          const appErr = toAppError(err);
          if (appErr.code === 'internal') {
            next(err);
            return;
          }
          done({ kind: 'error', text: `${appErr.code}: ${appErr.message}` });
        },
      );
    };

  router.post(
    '/receipts/:id/replay',
    action(async (id, body, actor) => {
      const execute = body['execute'] === 'true';
      const report = await replayWith(deps, { receiptId: id }, { execute, actor });
      const item = report.items[0];
      return `${execute ? 'Replay' : 'Preview (nothing changed)'}: ${item?.action ?? '?'}, ${item?.detail ?? ''}`;
    }),
  );
  router.post(
    '/receipts/:id/attach',
    action(async (id, body, actor) => {
      const receipt = await findReceiptDetail(deps.db, id);
      if (receipt === undefined) throw new AppError('not-found', `no receipt ${id}`);
      const position = nonEmpty(body['position']);
      const cardCode = nonEmpty(body['cardCode']);
      const account = body['account'];
      if (position === undefined && (cardCode === undefined || !isAccount(account))) {
        throw new AppError('invalid-input', 'give a position, or a card and an account');
      }
      const target = attachTargetOf(
        deps,
        receipt.domainId,
        position !== undefined
          ? { position }
          : {
              card: { cardCode: cardCode ?? '', account: isAccount(account) ? account : 'CANTEEN' },
            },
      );
      const r = await attachQuarantined(deps.db, id, target, { execute: true, actor });
      return `Attached to position ${r.externalId}${r.created ? ' (a new top-up)' : ''}: release it to reconcile.`;
    }),
  );
  router.post(
    '/receipts/:id/release',
    action(async (id, _body, actor) => {
      const r = await releaseQuarantined(deps.db, jobsOf(deps.reconcileQueue), id, {
        execute: true,
        actor,
      });
      return `Released: RECEIVED, job ${r.jobAction ?? '?'}.`;
    }),
  );
  router.post(
    '/receipts/:id/refund',
    action(async (id, _body, actor) => {
      await markRefundedOutside(deps.db, id, { execute: true, actor });
      return 'Closed as refunded outside pagoPA.';
    }),
  );

  router.get(
    '/jobs',
    wrap(async (_req, res) => {
      const queues = await Promise.all(opsQueues(deps).map((q) => queueInventory(q, PAGE_SIZE)));
      render(
        res,
        'Jobs',
        'jobs',
        html`${queues.map(
            (q) =>
              html`<h2>${q.queue}</h2>
                <p>
                  ${Object.entries(q.counts)
                    .map(([s, n]) => `${s} ${n}`)
                    .join(' · ')}
                </p>
                <table>
                  <tr>
                    <th>Job</th>
                    <th>Receipt</th>
                    <th>Attempts</th>
                    <th>Stalled</th>
                    <th>Reason</th>
                    <th>Finished</th>
                  </tr>
                  ${q.failed.map(
                    (f) =>
                      html`<tr>
                        <td>${f.jobId}</td>
                        <td>
                          ${f.receiptId === null ? '' : html`<a href="/ops/receipts/${f.receiptId}">${f.receiptId}</a>`}
                        </td>
                        <td>${f.attemptsMade}</td>
                        <td>${f.stalled ? 'yes' : ''}</td>
                        <td>${f.failedReason}</td>
                        <td>${f.finishedAt?.toISOString() ?? ''}</td>
                      </tr>`,
                  )}
                </table>`,
          )}
          <p><a href="/ops/queues">Open the queue dashboard</a></p>`,
      );
    }),
  );

  router.get(
    '/webhooks',
    wrap(async (req, res) => {
      const state = ['PENDING', 'DELIVERED', 'DEAD'].find((s) => s === req.query['state']) as
        'PENDING' | 'DELIVERED' | 'DEAD' | undefined;
      const events = await listOutboxEvents(deps.db, {
        limit: PAGE_SIZE,
        ...(state === undefined ? {} : { state }),
      });
      render(
        res,
        'Webhooks',
        'webhooks',
        html`<p class="tabs">
            <a href="/ops/webhooks">All</a><a href="/ops/webhooks?state=DEAD">DEAD</a
            ><a href="/ops/webhooks?state=PENDING">PENDING</a>
          </p>
          <fieldset>
            <legend>Redeliver DEAD events (oldest first)</legend>
            <form method="post" action="/ops/webhooks/redeliver">
              ${hidden(sessionOf(res))}
              <label
                >at most
                <input type="number" name="limit" min="1" max="${REPLAY_LIMIT_MAX}" value="100"
              /></label>
              <label>reason <input name="reason" required maxlength="${REASON_MAX_CHARS}" /></label>
              <button>Redeliver</button>
            </form>
          </fieldset>
          <table>
            <tr>
              <th>Event</th>
              <th>Type</th>
              <th>State</th>
              <th>Attempts</th>
              <th>Last status</th>
              <th>Last error</th>
              <th>Created</th>
            </tr>
            ${events.map(
              (e) =>
                html`<tr>
                  <td>${e.eventId}</td>
                  <td>${e.type}</td>
                  <td>${e.state}</td>
                  <td>${e.attempts}</td>
                  <td>${e.lastStatus ?? ''}</td>
                  <td>${e.lastError ?? ''}</td>
                  <td>${e.createdAt.toISOString()}</td>
                </tr>`,
            )}
          </table>`,
      );
    }),
  );
  router.post(
    '/webhooks/redeliver',
    wrap(async (req, res) => {
      const body = req.body as Record<string, string | undefined>;
      const reason = (body['reason'] ?? '').trim();
      const limit = Number(body['limit']);
      const session = sessionOf(res);
      if (reason === '' || !Number.isInteger(limit) || limit < 1 || limit > REPLAY_LIMIT_MAX) {
        session.flash = { kind: 'error', text: 'A reason and a limit are required.' };
      } else {
        const events = await redeliverOutboxEvents(
          deps.db,
          { state: 'DEAD', limit },
          { actor: `console:${session.operator}`, reason },
        );
        session.flash = {
          kind: 'ok',
          text: `${events.length} event(s) back in the delivery line.`,
        };
      }
      res.redirect(303, '/ops/webhooks?state=DEAD');
    }),
  );

  router.get(
    '/awaiting',
    wrap(async (_req, res) => {
      const items = await listAwaitingReceipts(deps.db, {
        olderThanMs: deps.config.recoveryDelayMs,
        limit: PAGE_SIZE,
      });
      const now = new Date();
      render(
        res,
        'Payments awaiting a receipt',
        'awaiting',
        html`<p>
            PENDING payment attempts older than the recovery delay
            (${Math.round(deps.config.recoveryDelayMs / 60_000)} min) with no receipt in the inbox.
          </p>
          <table>
            <tr>
              <th>Payment</th>
              <th>Channel</th>
              <th>Domain</th>
              <th>IUV</th>
              <th>Amount</th>
              <th>Age</th>
              <th>Last checked</th>
            </tr>
            ${items.map(
              (p) =>
                html`<tr>
                  <td>${p.paymentId}</td>
                  <td>${p.channel}</td>
                  <td>${p.domainId}</td>
                  <td>${p.iuv}</td>
                  <td class="num">${centsToDecimal(p.amountCents)}</td>
                  <td>${humanAge(p.createdAt, now)}</td>
                  <td>${humanAge(p.lastCheckedAt, now)} ago</td>
                </tr>`,
            )}
          </table>`,
      );
    }),
  );

  // Old model 3: RPTs owed to the node after paaAttivaRPT. FAILED ones are shown first: the PSP has
  // the money and no RT will come back until the node has the RPT. SENT ones are re-sent with
  // force from the CLI or the ops API only (a decision taken after asking the node).
  router.get(
    '/activated-rpts',
    wrap(async (req, res) => {
      const asked = req.query['state'];
      const state =
        asked === 'all' ? undefined : (ACTIVATED_RPT_STATES.find((s) => s === asked) ?? 'FAILED');
      const sends = await listActivatedSends(deps.db, { state, limit: PAGE_SIZE });
      const session = sessionOf(res);
      render(
        res,
        'Activated RPTs',
        'activated-rpts',
        html`<p>
            RPTs the node is owed after paaAttivaRPT (old model 3). A FAILED one has no RT coming:
            fix the cause (see its error), then re-send it; the worker sends it within a second.
          </p>
          <p class="tabs">
            <a href="/ops/activated-rpts">FAILED</a
            ><a href="/ops/activated-rpts?state=PENDING">PENDING</a
            ><a href="/ops/activated-rpts?state=SENT">SENT</a
            ><a href="/ops/activated-rpts?state=all">All</a>
          </p>
          <table id="activated-rpts">
            <tr>
              <th>Id</th>
              <th>State</th>
              <th>Domain</th>
              <th>IUV</th>
              <th>CCP</th>
              <th>PSP / channel</th>
              <th>Attempts</th>
              <th>Last error</th>
              <th>Updated</th>
              <th></th>
            </tr>
            ${sends.map(
              (s) =>
                html`<tr>
                  <td>${s.id}</td>
                  <td>${s.state}</td>
                  <td>${s.domainId}</td>
                  <td>${s.iuv}</td>
                  <td>${s.ccp}</td>
                  <td>${s.psp.pspId} / ${s.psp.channelId}</td>
                  <td>${s.attempts}</td>
                  <td>${s.lastError ?? ''}</td>
                  <td>${s.updatedAt.toISOString()}</td>
                  <td>
                    ${
                      s.state === 'FAILED'
                        ? html`<form method="post" action="/ops/activated-rpts/${s.id}/resend">
                            ${hidden(session)}
                            <input
                              name="reason"
                              required
                              maxlength="${REASON_MAX_CHARS}"
                              placeholder="reason"
                            />
                            <button>Re-send</button>
                          </form>`
                        : ''
                    }
                  </td>
                </tr>`,
            )}
          </table>`,
      );
    }),
  );
  router.post(
    '/activated-rpts/:id/resend',
    wrap(async (req, res) => {
      const id = idParam(req.params['id'], 'activated RPT');
      const reason = ((req.body as Record<string, string | undefined>)['reason'] ?? '').trim();
      const session = sessionOf(res);
      if (reason === '' || reason.length > REASON_MAX_CHARS) {
        session.flash = {
          kind: 'error',
          text: `A reason (1 to ${REASON_MAX_CHARS} characters) is required.`,
        };
      } else {
        try {
          await resendActivatedSends(deps.db, [id], {
            force: false,
            execute: true,
            actor: actorOf(res, reason),
          });
          session.flash = { kind: 'ok', text: `Activated RPT ${id} re-armed: PENDING, due now.` };
        } catch (err) {
          const appErr = toAppError(err);
          if (appErr.code !== 'not-found' && appErr.code !== 'conflict') throw err;
          session.flash = { kind: 'error', text: `${appErr.code}: ${appErr.message}` };
        }
      }
      res.redirect(303, '/ops/activated-rpts');
    }),
  );

  router.get(
    '/audit',
    wrap(async (_req, res) => {
      const lines = (await listAudit(deps.db, { limit: PAGE_SIZE })).map(toAuditLine);
      render(
        res,
        'Audit',
        'audit',
        html`<p><a href="/ops/audit.csv">Export as CSV</a></p>
          <table id="audit">
            <tr>
              <th>At</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Subject</th>
              <th>Reason</th>
              <th>Before</th>
              <th>After</th>
            </tr>
            ${lines.map(
              (a) =>
                html`<tr>
                  <td>${a.occurredAt.toISOString()}</td>
                  <td>${a.actor}</td>
                  <td>${a.action}</td>
                  <td>
                    ${a.subjectType === 'receipt' ? html`<a href="/ops/receipts/${a.subjectId}">receipt ${a.subjectId}</a>` : `${a.subjectType} ${a.subjectId}`}
                  </td>
                  <td>${a.reason ?? ''}</td>
                  <td><code>${JSON.stringify(a.before)}</code></td>
                  <td><code>${JSON.stringify(a.after)}</code></td>
                </tr>`,
            )}
          </table>`,
      );
    }),
  );
  router.get(
    '/reconciliation',
    wrap(async (req, res) => {
      const q = consoleReportQuery(deps, req.query);
      const report = await reconciliationReport(deps, q);
      render(res, 'Reconciliation', 'reconciliation', reconciliationPageBody(report, q));
    }),
  );
  router.get(
    '/reconciliation.csv',
    wrap(async (req, res) => {
      const q = consoleReportQuery(deps, req.query);
      const csv = reportToCsv(await reconciliationReport(deps, q));
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-disposition', 'attachment; filename="reconciliation.csv"');
      res.type('text/csv; charset=utf-8').send(csv);
    }),
  );

  router.get(
    '/audit.csv',
    wrap(async (_req, res) => {
      const csv = await auditCsv(deps.db, {});
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-disposition', 'attachment; filename="audit.csv"');
      res.type('text/csv; charset=utf-8').send(csv);
    }),
  );

  const errors: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const appErr = toAppError(err);
    if (appErr.code === 'internal') deps.logger.error({ err }, 'console error');
    const problem = toProblem(
      appErr.code,
      appErr.message,
      String(res.locals['requestId']),
      appErr.details,
    );
    const session = (res.locals as Partial<Locals>).session;
    send(
      res,
      problem.status,
      page(
        problem.title,
        html`<p>${problem.detail}</p>
          <p><a href="/ops/receipts">Back to receipts</a></p>`,
        {
          ...(session === undefined
            ? {}
            : { csrfToken: session.csrfToken, operator: session.operator }),
        },
      ),
    );
  };
  router.use(errors);
  app.use('/ops', (req: Request, res: Response, next: NextFunction) => {
    // The ops API lives under /ops/v1 and answers JSON; the console takes the rest of /ops.
    if (req.path.startsWith('/v1/') || req.path === '/v1') {
      next();
      return;
    }
    router(req, res, next);
  });
}

function wrap(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    handler(req, res).catch(next);
  };
}

const hidden = (session: ConsoleSession): Html =>
  html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;

const nonEmpty = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 200) : undefined;

const definedOnly = (o: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));

const isAccount = (v: unknown): v is 'CANTEEN' | 'NURSERY_MEALS' | 'SCHOOL_TRANSPORT' =>
  v === 'CANTEEN' || v === 'NURSERY_MEALS' || v === 'SCHOOL_TRANSPORT';

function idParam(value: unknown, what = 'receipt'): number {
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new AppError('not-found', `no such ${what}`);
  }
  return n;
}

function replayTable(items: readonly ReplayItem[]): Html {
  return html`<table id="replay-report">
    <tr>
      <th>Receipt</th>
      <th>State</th>
      <th>IUV</th>
      <th>Action</th>
      <th>Job</th>
      <th>Detail</th>
    </tr>
    ${items.map(
      (i) =>
        html`<tr>
          <td><a href="/ops/receipts/${i.receiptId}">${i.receiptId}</a></td>
          <td>${i.stateBefore}</td>
          <td>${i.iuv}</td>
          <td>${i.action}</td>
          <td>${i.jobAction ?? ''}</td>
          <td>${i.detail}</td>
        </tr>`,
    )}
  </table>`;
}
