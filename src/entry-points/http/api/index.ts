import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import express, { type Express } from 'express';
import type { Db } from '../../../data-access/db';
import type { Config } from '../../../shared/config';
import type { Domains } from '../../../shared/domains-config';
import type { Logger } from '../../../shared/logger';
import { createAuthenticator } from './auth';
import { mountRoutes, openApiDocument, type RouteSpec } from './route';
import { noticeRoutes } from './notice-routes';
import { receiptsRoutes } from './receipts-routes';
import { systemRoutes } from './system-routes';
import { cardsRoutes } from './cards-routes';
import { positionsRoutes } from './positions-routes';
import { checkoutRoutes, OnlinePaymentStarters, sentRequestsRoutes } from './checkout-routes';
import { billingRoutes } from './billing-routes';
import { opsRoutes } from './ops-routes';
import { reconciliationRoutes } from './reconciliation-routes';
import { mountConsole } from '../console';

/** What the ERP API's handlers may use. */
export type ApiDeps = {
  db: Db;
  domains: Domains;
  config: Config;
  logger: Logger;
  /** Where billing runs are queued for the worker; without it POST /billing-runs answers 503. */
  billingQueue?: Queue;
  /** The reconcile queue, for operator replays; without it they answer 503. */
  reconcileQueue?: Queue;
  /** The service's metrics registry (the outbound node client's metrics go there). */
  registry: Registry;
};

/**
 * Every route of the ERP API and the ops API. A feature adds its routes here; the OpenAPI
 * document, the auth sweep test and response checking all read this one list.
 */
export function apiRoutes(deps: ApiDeps): RouteSpec[] {
  // One set of starters: one transport (circuit breakers, metrics) for top-ups and carts.
  const starters = new OnlinePaymentStarters(deps);
  return [
    ...systemRoutes(deps),
    ...cardsRoutes(deps),
    ...positionsRoutes(deps, starters),
    ...checkoutRoutes(deps, starters),
    ...sentRequestsRoutes(deps),
    ...noticeRoutes(deps),
    ...billingRoutes(deps),
    ...receiptsRoutes(deps),
    ...opsRoutes(deps),
    ...reconciliationRoutes(deps),
  ];
}

export const API_INFO = { title: 'pagopa-adapter ERP API', version: '1.0.0' };

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pagopa-adapter API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#ui' });</script>
</body></html>`;

/** Mounts the API routes, the OpenAPI document and the browsable docs (served locally, no CDN). */
export function mountApi(app: Express, deps: ApiDeps): RouteSpec[] {
  const routes = apiRoutes(deps);
  const document = openApiDocument(routes, API_INFO);
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(document);
  });
  const swaggerDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  app.use('/docs/assets', express.static(swaggerDir, { index: false, maxAge: '1h' }));
  app.get('/docs', (_req, res) => {
    res.type('html').send(DOCS_HTML);
  });
  mountConsole(app, deps);
  mountRoutes(app, routes, {
    authenticate: createAuthenticator({
      db: deps.db,
      configured: deps.config.apiKeys,
      allowDemoKeys: deps.config.env !== 'production',
    }),
    checkResponses: deps.config.env !== 'production',
  });
  return routes;
}
