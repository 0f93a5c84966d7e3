import { z } from 'zod';
import { listKeys } from '../../../data-access/api-keys-repository';
import type { ApiDeps } from './index';
import { defineRoute, ProblemSchema, type RouteSpec } from './route';

const ServiceOut = z.object({
  code: z.string(),
  description: z.string(),
  taxonomyCode: z.string(),
  account: z.enum(['CANTEEN', 'NURSERY_MEALS', 'SCHOOL_TRANSPORT']).nullable(),
});

const DomainOut = z.object({
  fiscalCode: z.string(),
  name: z.string(),
  dialect: z.enum(['pagopa', 'rpt', 'mypay']),
  isDefault: z.boolean(),
  services: z.array(ServiceOut),
});

const ApiKeyOut = z.object({
  name: z.string(),
  roles: z.array(z.string()),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

/** Who am I, which domains and services exist, which keys exist: read-only facts for callers. */
export function systemRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/me',
      operationId: 'whoAmI',
      summary: 'The name and roles of the calling key',
      tags: ['system'],
      roles: ['erp', 'operator'],
      responses: {
        200: {
          description: 'The caller',
          schema: z.object({ name: z.string(), roles: z.array(z.string()) }),
        },
      },
      handler: ({ principal }) =>
        Promise.resolve({
          status: 200,
          body: { name: principal.name, roles: [...principal.roles] },
        }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/domains',
      operationId: 'listDomains',
      summary: 'The creditor entities served and their service catalogues (no secrets)',
      tags: ['system'],
      roles: ['erp', 'operator'],
      responses: {
        200: { description: 'Domains', schema: z.object({ items: z.array(DomainOut) }) },
      },
      handler: () => {
        const fallback = deps.domains.resolve(undefined)?.fiscalCode;
        const items = deps.domains.all.map((d) => ({
          fiscalCode: d.fiscalCode,
          name: d.name,
          dialect: d.dialect,
          isDefault: d.fiscalCode === fallback,
          services: d.services.map((s) => ({
            code: s.code,
            description: s.description,
            taxonomyCode: s.taxonomyCode,
            account: s.account ?? null,
          })),
        }));
        return Promise.resolve({ status: 200, body: { items } });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/ops/v1/api-keys',
      operationId: 'listApiKeys',
      summary: 'API keys made with `pagopa-adapter keys create` (names and roles only)',
      tags: ['ops'],
      roles: ['operator'],
      responses: {
        200: { description: 'Keys', schema: z.object({ items: z.array(ApiKeyOut) }) },
        403: { description: 'Not an operator key', schema: ProblemSchema },
      },
      handler: async () => {
        const rows = await listKeys(deps.db);
        const items = rows.map((r) => ({
          name: r.name,
          roles: r.roles.split(','),
          createdAt: r.createdAt.toISOString(),
          revokedAt: r.revokedAt?.toISOString() ?? null,
        }));
        return { status: 200, body: { items } };
      },
    }),
  ];
}
