import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import express, { type Express, type Request, type Response } from 'express';
import { Counter, Histogram } from 'prom-client';
import {
  escapeXml,
  parseSoapEnvelope,
  soapEnvelope,
  type XmlObject,
} from '../../adapters/pagopa/xml';
import { AppError, toAppError } from '../../domain/errors';
import { requestLogger, trackRequest } from '../http/app';
import { toProblem } from '../http/error-to-problem';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { PACKAGE_ROOT } from '../../shared/paths';
import { FAULT_STRINGS, paaFaultCodeFor } from './error-to-pa-fault';
import {
  SOAP_SERVICES,
  type PaaFault,
  type SoapOperation,
  type SoapServiceName,
} from './operations';

export type SoapOptions = {
  operations: readonly SoapOperation[];
  logger: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** Where our WSDL/XSD files are (the repository's wsdl/). */
  wsdlDir: string;
  /** The address the node reaches us at, written into the served WSDLs' soap:address. */
  publicUrl: string;
  /** The fault id when the request names no domain we can read. */
  defaultFaultId: string;
};

export const WSDL_DIR = path.join(PACKAGE_ROOT, 'wsdl');

/**
 * The node's doors: one POST endpoint per service, dispatching on the Body's first element.
 *
 * Why not the `soap` package's server: we need to refuse DOCTYPE and entities before any parser
 * sees them, answer KO in each primitive's own response shape with the right PAA code, and keep
 * the receipt path fast; our wire module (src/adapters/pagopa) already parses and builds every
 * message and is tested against the official XSDs. The served WSDLs are the same files.
 */
export function mountSoap(app: Express, options: SoapOptions): SoapFastPath {
  const doors = new Map<string, Answerer>();
  const latency = new Histogram({
    name: 'soap_request_duration_seconds',
    help: 'Time to answer the node, by primitive and outcome (OK, KO, FAULT)',
    labelNames: ['primitive', 'outcome'],
    // pagoPA's service level: 98 % within 2 s; the node gives up at 7 s / 15 s.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 7, 15],
    registers: [options.metrics.registry],
  });
  const faults = new Counter({
    name: 'soap_faults_total',
    help: 'PAA faults answered, by primitive and fault code',
    labelNames: ['primitive', 'fault_code'],
    registers: [options.metrics.registry],
  });

  app.use('/pagopa/xsd', express.static(path.join(options.wsdlDir, 'xsd'), { index: false }));

  for (const [serviceName, service] of Object.entries(SOAP_SERVICES) as [
    SoapServiceName,
    (typeof SOAP_SERVICES)[SoapServiceName],
  ][]) {
    const operations = new Map(
      options.operations.filter((o) => o.service === serviceName).map((o) => [o.name, o]),
    );
    const wsdl = fs
      .readFileSync(path.join(options.wsdlDir, service.wsdl), 'utf8')
      .replace(/(<soap:address\s+location=")[^"]*(")/, `$1${options.publicUrl}${service.path}$2`);

    app.get(service.path, (req, res) => {
      if (!('wsdl' in req.query) && !('WSDL' in req.query)) {
        res.status(405).type('text/plain').send('POST a SOAP envelope, or GET ?wsdl');
        return;
      }
      res.type('text/xml').send(wsdl);
    });

    const answer = answerer(serviceName, service, operations, options, latency, faults);
    doors.set(service.path, answer);
    app.post(
      service.path,
      // Every content type is read as text: the node sends text/xml, tools send others.
      express.text({ type: () => true, limit: options.bodyLimitBytes }),
      (req: Request, res: Response) => {
        const raw = typeof req.body === 'string' ? req.body : '';
        void answer(raw, {
          requestId: String(res.locals['requestId']),
          log: requestLogger(res),
          remoteAddress: req.socket.remoteAddress,
        }).then(({ status, body }) => {
          res.status(status).type('text/xml').send(body);
        });
      },
    );
  }
  return fastPath(doors, options);
}

type RequestMeta = { requestId: string; log: Logger; remoteAddress: string | undefined };
type SoapAnswer = { status: number; body: string };
/** Answers one request body on one door; never rejects (every failure is a fault answer). */
type Answerer = (raw: string, meta: RequestMeta) => Promise<SoapAnswer>;

function answerer(
  serviceName: SoapServiceName,
  service: (typeof SOAP_SERVICES)[SoapServiceName],
  operations: ReadonlyMap<string, SoapOperation>,
  options: SoapOptions,
  latency: Histogram<'primitive' | 'outcome'>,
  faults: Counter<'primitive' | 'fault_code'>,
): Answerer {
  const answerOnce: Answerer = async (raw, meta) => {
    const started = process.hrtime.bigint();
    const observe = (primitive: string, outcome: string): void => {
      latency.observe({ primitive, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    let operation: SoapOperation | undefined;
    let payload: XmlObject = {};
    let header: XmlObject | undefined;
    try {
      // The parser lets C0 controls through; XML 1.0 forbids them, so the document is not XML.
      if (HAS_NOT_XML_CHAR.test(raw)) {
        throw new AppError('xml-malformed', 'the document holds characters XML 1.0 forbids');
      }
      const envelope = parseSoapEnvelope(raw);
      payload = envelope.payload;
      header = envelope.header;
      operation = operations.get(envelope.operation);
      if (operation !== undefined) checkNamespaces(raw, SERVICE_NAMESPACES[serviceName]);
      if (operation === undefined) {
        throw new AppError(
          'unknown-operation',
          `${serviceName} has no operation ${envelope.operation}`,
        );
      }
    } catch (err) {
      // Without an operation there is no response shape to answer in: a SOAP Fault.
      const appErr = toAppError(err);
      const code = paaFaultCodeFor(appErr.code, service.model);
      faults.inc({ primitive: 'unknown', fault_code: code });
      observe('unknown', 'FAULT');
      return { status: 500, body: soapFault(code, describe(appErr)) };
    }
    const op = operation;
    const { log } = meta;
    const context = {
      requestId: meta.requestId,
      log,
      rawXml: raw,
      header,
      remoteAddress: meta.remoteAddress,
    };
    try {
      const body = await op.handle(payload, context);
      observe(op.name, 'OK');
      return { status: 200, body };
    } catch (err) {
      const appErr = toAppError(err);
      const faultCode = paaFaultCodeFor(appErr.code, service.model);
      if (appErr.code === 'internal' || appErr.code === 'dependency-down') {
        log.error({ err, primitive: op.name }, 'soap primitive failed');
      }
      const fault: PaaFault = {
        faultCode,
        faultString: FAULT_STRINGS[faultCode] ?? faultCode,
        id: safeDomain(op, payload, header) ?? options.defaultFaultId,
        description: describe(appErr),
      };
      faults.inc({ primitive: op.name, fault_code: faultCode });
      observe(op.name, 'KO');
      try {
        return { status: 200, body: op.ko(fault) };
      } catch (buildErr) {
        // A KO that cannot be built must still be an answer, never an unhandled rejection.
        log.error({ err: buildErr, primitive: op.name }, 'soap KO not buildable');
        return { status: 500, body: soapFault(faultCode, 'answer not buildable') };
      }
    }
  };
  // Total: whatever escapes (a logger or a metric throwing) is still an answer, never an
  // unhandled rejection that would stop the process.
  return async (raw, meta) => {
    try {
      return await answerOnce(raw, meta);
    } catch (err) {
      meta.log.error({ err }, 'soap answer failed');
      const code = paaFaultCodeFor('internal', service.model);
      return { status: 500, body: soapFault(code, describe(toAppError(err))) };
    }
  };
}

/** A handler the HTTP server tries before express: true when it took the request. */
export type SoapFastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

const UTF8_OR_NO_CHARSET = /^[^;]*(?:;\s*charset\s*=\s*"?utf-?8"?\s*)?$/i;

/**
 * The node's POSTs without express: the same answers (the same answerer), the same 413 before
 * parsing, request id, metric and access log (trackRequest), at a fraction of the CPU — express's
 * router, body-parser and response helpers were a tenth of a receipt's cost at the intake.
 *
 * Takes only the plain case: a POST to a door's exact path, UTF-8 or no charset, no
 * Content-Encoding. Everything else (a trailing slash, another charset, gzip, GET ?wsdl) goes on
 * to express, which answers it as before. Not used when a client-certificate subject is required
 * (the express middleware checks it).
 */
function fastPath(doors: ReadonlyMap<string, Answerer>, options: SoapOptions): SoapFastPath {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const answer = doors.get(path);
    if (answer === undefined) return false;
    if (req.headers['content-encoding'] !== undefined) return false;
    const contentType = req.headers['content-type'];
    if (contentType !== undefined && !UTF8_OR_NO_CHARSET.test(contentType)) return false;

    const { requestId, log } = trackRequest(
      'soap',
      options.logger,
      options.metrics,
      req,
      res,
      () => path,
    );
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, {
        'content-type': `${type}; charset=utf-8`,
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    const tooLarge = (): void => {
      // Like body-parser: refused before parsing, and the rest of the body is not read.
      const problem = toProblem(
        'payload-too-large',
        'the request body is larger than the configured limit',
        requestId,
      );
      res.setHeader('connection', 'close');
      send(problem.status, 'application/problem+json', JSON.stringify(problem));
      req.resume();
    };
    const declared = Number(req.headers['content-length']);
    if (declared > options.bodyLimitBytes) {
      tooLarge();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > options.bodyLimitBytes) {
        refused = true;
        chunks.length = 0;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      let raw = Buffer.concat(chunks, size).toString('utf8');
      // body-parser drops a byte-order mark; so do we, so both paths store the same text.
      if (raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
      void answer(raw, { requestId, log, remoteAddress: req.socket.remoteAddress }).then(
        ({ status, body }) => send(status, 'text/xml', body),
      );
    });
    // An aborted upload has no one to answer; the socket is gone.
    req.on('error', () => undefined);
    return true;
  };
}

/** What the node reads in `description`: the reason, never a stack trace or an internal message. */
function describe(err: AppError): string {
  if (err.code === 'internal') return 'internal error; the request can be retried';
  // Which socket failed how is for our logs (logged above), not for the node.
  if (err.code === 'dependency-down') return 'service temporarily unavailable; retry later';
  // Reasons quote the input, which may hold characters XML 1.0 cannot carry (C0 controls).
  return err.message.slice(0, 1000).replace(NOT_XML_CHARS, '\uFFFD');
}

// eslint-disable-next-line no-control-regex
const NOT_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
// eslint-disable-next-line no-control-regex
const HAS_NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** The namespace of each service's body elements (the parser strips prefixes, so we look here). */
const SERVICE_NAMESPACES: Record<SoapServiceName, string> = {
  paForNode: 'http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd',
  PaPerNodo: 'http://ws.pagamenti.telematici.gov/',
  PaPerNodoPagamentoPsp: 'http://ws.pagamenti.telematici.gov/',
};
const SOAP_NAMESPACES = new Set([
  'http://schemas.xmlsoap.org/soap/envelope/',
  'http://www.w3.org/2003/05/soap-envelope',
]);
const START_TAG =
  /<(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)((?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?>/g;
const XMLNS = /\s+xmlns(?::([\w.-]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * Refuses an envelope or an operation element in another namespace than SOAP's and the
 * service's. Prefixes stay free (any prefix, or a default namespace); names are not enough: a
 * `paSendRTReq` of another namespace is not our primitive. Reads the already well-formed text:
 * the Envelope, Body and operation start tags and their namespace declarations (the only
 * ancestors of the operation element).
 * @throws AppError('xml-schema-invalid') naming the element in the wrong namespace.
 */
function checkNamespaces(raw: string, serviceNs: string): void {
  const scope = new Map<string, string>();
  let seenBody = false;
  let depth = 0;
  START_TAG.lastIndex = 0;
  for (let m = START_TAG.exec(raw); m !== null; m = START_TAG.exec(raw)) {
    const [, prefix = '', local = '', attrs = ''] = m;
    const own = new Map(scope);
    XMLNS.lastIndex = 0;
    for (let d = XMLNS.exec(attrs); d !== null; d = XMLNS.exec(attrs)) {
      own.set(d[1] ?? '', d[2] ?? d[3] ?? '');
    }
    const ns = own.get(prefix) ?? '';
    if (depth === 0) {
      if (!SOAP_NAMESPACES.has(ns)) {
        throw new AppError('xml-schema-invalid', `/Envelope: namespace '${ns}' is not SOAP's`);
      }
    } else if (!seenBody) {
      if (local !== 'Body') continue;
      seenBody = true;
    } else {
      if (ns !== serviceNs) {
        throw new AppError(
          'xml-schema-invalid',
          `/Envelope/Body/${local}: namespace '${ns}' is not ${serviceNs}`,
        );
      }
      return;
    }
    depth += 1;
    for (const [k, v] of own) scope.set(k, v);
  }
}

function safeDomain(
  op: SoapOperation,
  payload: XmlObject,
  header: XmlObject | undefined,
): string | undefined {
  try {
    const id = op.domainOf?.(payload, header);
    return id !== undefined && /^\d{11}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

export function soapFault(code: string, description: string): string {
  return soapEnvelope(
    `<soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>${escapeXml(code)}</faultstring>` +
      `<detail><description>${escapeXml(description)}</description></detail></soapenv:Fault>`,
  );
}
