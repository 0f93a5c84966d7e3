import type { Express, NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { AppError } from '../../../domain/errors';
import type { Principal, Role } from './auth';

/**
 * One declaration per route: its path, who may call it, the zod schemas of what it accepts and
 * answers, and its handler. The same declaration validates requests, checks responses outside
 * production, and writes the OpenAPI document, so the three cannot drift apart.
 */

export type Method = 'get' | 'post' | 'put' | 'delete';

export type ResponseSpec = {
  description: string;
  /** JSON body schema; omit for empty bodies or non-JSON content (see contentType). */
  schema?: z.ZodType;
  contentType?: string;
};

export type HandlerResult = {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send bytes or text with this content type instead of JSON. */
  contentType?: string;
};

export type HandlerContext<P, Q, B> = {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  requestId: string;
  header: (name: string) => string | undefined;
  /** The raw text body, for routes that accept a non-JSON content type (CSV). */
  rawBody: string | undefined;
};

export type RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> = {
  method: Method;
  /** Express-style path, e.g. /api/v1/cards/:cardCode */
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  roles: readonly Role[];
  params?: P;
  query?: Q;
  body?: B;
  /** Extra request content types accepted as raw text besides JSON (e.g. text/csv). */
  rawBodyTypes?: readonly string[];
  headers?: { name: string; required: boolean; description: string }[];
  responses: Record<number, ResponseSpec>;
  handler: (ctx: HandlerContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<HandlerResult>;
};

/** Keeps each route's generic types while collecting them in one list. */
export const defineRoute = <P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec => spec;

export type Authenticate = (authorization: string | undefined) => Promise<Principal>;

/** Turns zod issues into one readable sentence and a structured list for problem+json. */
export function invalidInput(where: string, error: z.ZodError): AppError {
  const errors = error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  return new AppError('invalid-input', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    errors,
  });
}

/**
 * Mounts routes on the app. Outside production every JSON answer is checked against the schema
 * its route declares, and a mismatch is an internal error: the tests then catch any drift
 * between the OpenAPI document and the code.
 */
export function mountRoutes(
  app: Express,
  routes: readonly RouteSpec[],
  options: { authenticate: Authenticate; checkResponses: boolean },
): void {
  for (const route of routes) {
    app[route.method](route.path, (req: Request, res: Response, next: NextFunction) => {
      handle(route, req, res, options).catch(next);
    });
  }
}

async function handle(
  route: RouteSpec,
  req: Request,
  res: Response,
  options: { authenticate: Authenticate; checkResponses: boolean },
): Promise<void> {
  const principal = await options.authenticate(req.header('authorization'));
  if (!route.roles.some((role) => principal.roles.includes(role))) {
    throw new AppError(
      'forbidden',
      `this key (${principal.name}) lacks the role ${route.roles.join(' or ')}`,
    );
  }
  const params = parse('path', route.params, req.params);
  const query = parse('query', route.query, req.query);
  const rawBody = typeof req.body === 'string' ? req.body : undefined;
  const body = rawBody !== undefined ? undefined : parse('body', route.body, req.body ?? {});
  const result = await route.handler({
    params,
    query,
    body,
    principal,
    requestId: String(res.locals['requestId']),
    header: (name) => req.header(name),
    rawBody,
  });
  if (options.checkResponses) checkResponse(route, result);
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  res.status(result.status);
  if (result.contentType !== undefined) {
    res.type(result.contentType).send(result.body);
  } else if (result.body === undefined) {
    res.end();
  } else {
    res.json(result.body);
  }
}

function parse(where: string, schema: z.ZodType | undefined, value: unknown): unknown {
  if (schema === undefined) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(where, parsed.error);
  return parsed.data;
}

function checkResponse(route: RouteSpec, result: HandlerResult): void {
  const spec = route.responses[result.status];
  if (spec === undefined) {
    throw new AppError(
      'internal',
      `${route.operationId} answered ${result.status}, which it does not declare`,
    );
  }
  if (spec.schema !== undefined) {
    const parsed = spec.schema.safeParse(result.body);
    if (!parsed.success) {
      throw new AppError(
        'internal',
        `${route.operationId} ${result.status} breaks its schema: ${parsed.error.message}`,
      );
    }
  }
}

/** The problem+json schema every error answer follows. */
export const ProblemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string(),
  requestId: z.string().optional(),
});

const toJsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json['$schema'];
  return json;
};

/** The OpenAPI 3.1 document of the given routes. */
export function openApiDocument(
  routes: readonly RouteSpec[],
  info: { title: string; version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const oasPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters: Record<string, unknown>[] = [];
    for (const [where, schema] of [
      ['path', route.params],
      ['query', route.query],
    ] as const) {
      if (schema === undefined) continue;
      const json = toJsonSchema(schema, 'input');
      const props = (json['properties'] ?? {}) as Record<string, unknown>;
      const required = new Set((json['required'] ?? []) as string[]);
      for (const [name, propSchema] of Object.entries(props)) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || required.has(name),
          schema: propSchema,
        });
      }
    }
    for (const h of route.headers ?? []) {
      parameters.push({
        name: h.name,
        in: 'header',
        required: h.required,
        description: h.description,
        schema: { type: 'string' },
      });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.schema !== undefined
          ? {
              content: {
                [spec.contentType ?? 'application/json']: {
                  schema: toJsonSchema(spec.schema, 'output'),
                },
              },
            }
          : spec.contentType !== undefined
            ? { content: { [spec.contentType]: {} } }
            : {}),
      };
    }
    for (const status of ['400', '401', '403']) {
      responses[status] ??= {
        description: {
          '400': 'Invalid input',
          '401': 'Missing or unknown API key',
          '403': 'The key lacks the role',
        }[status],
        content: { 'application/problem+json': { schema: toJsonSchema(ProblemSchema, 'output') } },
      };
    }
    const requestContent: Record<string, unknown> = {};
    if (route.body !== undefined)
      requestContent['application/json'] = { schema: toJsonSchema(route.body, 'input') };
    for (const type of route.rawBodyTypes ?? [])
      requestContent[type] = { schema: { type: 'string' } };
    paths[oasPath] ??= {};
    paths[oasPath][route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      'x-roles': route.roles,
      security: [{ bearerAuth: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(Object.keys(requestContent).length > 0
        ? { requestBody: { required: true, content: requestContent } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'API key (roles erp, operator)',
        },
      },
    },
    paths,
  };
}
