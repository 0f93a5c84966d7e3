import fs from 'node:fs';
import http from 'node:http';
import zlib from 'node:zlib';
import path from 'node:path';
import { parseSoapEnvelope, optText } from '../../src/adapters/pagopa/xml';
import { createTestDatabase } from '../helpers/db';
import { REPO_ROOT, startTestService, testConfig } from '../helpers/service';

/**
 * The dispatcher's own behaviour, before any primitive runs: WSDLs with our public address, the
 * body limit, SOAP Faults for what cannot be parsed or routed, and the metrics it keeps.
 */

const INTAKE = path.join(REPO_ROOT, 'fixtures', 'soap', 'intake');
const fixture = (name: string): string => fs.readFileSync(path.join(INTAKE, name), 'utf8');
const PUBLIC_URL = 'https://pagopa.comune.example.it/ec';

async function post(
  url: string,
  body: string,
): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body,
  });
  return {
    status: res.status,
    text: await res.text(),
    type: res.headers.get('content-type') ?? '',
  };
}

/** The faultstring (our PAA code) of a SOAP Fault answer. */
function soapFaultCode(text: string): string | undefined {
  const env = parseSoapEnvelope(text);
  return env.operation === 'Fault' ? optText(env.payload, 'faultstring') : undefined;
}

describe('SOAP dispatcher', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let base: string;

  beforeAll(async () => {
    database = await createTestDatabase('soap_dispatch');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX: `t-dispatch-${process.pid}`,
        SOAP_PUBLIC_URL: PUBLIC_URL,
        SOAP_BODY_LIMIT_BYTES: String(64 * 1024),
      }),
      'soap',
    );
    base = `http://127.0.0.1:${service.ports.soap}`;
  });

  afterAll(async () => {
    await service.stop();
    await database.drop();
  });

  test.each([
    ['/pagopa/paForNode', 'paSendRT'],
    ['/pagopa/PaPerNodo', 'paaInviaRT'],
  ])('GET %s?wsdl serves the WSDL with our public address', async (servicePath, operation) => {
    const res = await fetch(`${base}${servicePath}?wsdl`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    expect(text).toContain(`location="${PUBLIC_URL}${servicePath}"`);
    expect(text).toContain(`name="${operation}"`);
  });

  test('a GET without ?wsdl is 405', async () => {
    expect((await fetch(`${base}/pagopa/paForNode`)).status).toBe(405);
  });

  test('a body over the limit is 413 before any parsing, and nothing is stored', async () => {
    const huge = fixture('pa-send-rt.ok.xml').replace(
      '<description>',
      `<description>${'x'.repeat(70 * 1024)}`,
    );
    const res = await post(`${base}/pagopa/paForNode`, huge);
    expect(res.status).toBe(413);
    const row = (await database.db('receipts').count({ n: '*' }).first()) as { n: number };
    expect(Number(row.n)).toBe(0);
  });

  test.each([
    ['garbage.not-xml.txt', /not an XML document/],
    ['garbage.truncated.xml', /not well-formed/],
    ['garbage.entity-bomb.xml', /DOCTYPE/],
    ['garbage.not-an-envelope.xml', /not a SOAP envelope/],
    ['garbage.unknown-operation.xml', /no operation paCancelEverythingReq/],
  ])(
    '%s is a SOAP Fault PAA_SINTASSI_EXTRAXSD with a reason and no stack',
    async (name, reason) => {
      const res = await post(`${base}/pagopa/paForNode`, fixture(name));
      expect(res.status).toBe(500);
      expect(res.type).toMatch(/text\/xml/);
      expect(soapFaultCode(res.text)).toBe('PAA_SINTASSI_EXTRAXSD');
      expect(res.text).toMatch(reason);
      expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    },
  );

  test.each([
    [
      'an envelope outside SOAP',
      ['http://schemas.xmlsoap.org/soap/envelope/', 'urn:not-soap'],
      /\/Envelope: namespace/,
    ],
    [
      'an operation outside paForNode',
      ['http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd', 'urn:elsewhere'],
      /paSendRTReq: namespace &apos;urn:elsewhere&apos;/,
    ],
  ])(
    '%s is a SOAP Fault PAA_SINTASSI_EXTRAXSD, and nothing is stored',
    async (_what, [from, to], reason) => {
      const res = await post(
        `${base}/pagopa/paForNode`,
        fixture('pa-send-rt.ok.xml').replace(from!, to!),
      );
      expect(soapFaultCode(res.text)).toBe('PAA_SINTASSI_EXTRAXSD');
      expect(res.text).toMatch(reason);
      const row = (await database.db('receipts').count({ n: '*' }).first()) as { n: number };
      expect(Number(row.n)).toBe(0);
    },
  );

  test.each([
    ['a default namespace', 'pa-verify-payment-notice.req.lenient-unprefixed.xml'],
    ['other prefixes', 'pa-verify-payment-notice.req.other-prefixes.xml'],
  ])('%s in the right namespaces passes the namespace check', async (_what, name) => {
    const xml = fs.readFileSync(
      path.join(REPO_ROOT, 'fixtures', 'soap', 'new-model', name),
      'utf8',
    );
    const res = await post(`${base}/pagopa/paForNode`, xml);
    // Routed by name past the namespace check: whatever the answer, it is not a namespace fault.
    expect(res.text).not.toMatch(/namespace/);
  });

  test('a primitive posted to the wrong service is an unknown operation there', async () => {
    const res = await post(`${base}/pagopa/PaPerNodo`, fixture('pa-send-rt.ok.xml'));
    expect(soapFaultCode(res.text)).toBe('PAA_SINTASSI_EXTRAXSD');
    expect(res.text).toMatch(/PaPerNodo has no operation paSendRTReq/);
  });

  test.each([
    [
      'in a value a primitive refuses (a KO answer)',
      ['<paymentAmount>45.60<', '<paymentAmount>4\u00015.60<'],
    ],
    ['in an unknown operation (a SOAP Fault)', ['<pafn:paSendRTReq>', '<pafn:paSendRTReq>\u0001']],
  ])(
    'a control character %s is a SOAP Fault PAA_SINTASSI_EXTRAXSD (not XML 1.0), and the server lives on',
    async (_where, [from, to]) => {
      const body = fixture('pa-send-rt.ok.xml').replace(from!, to!);
      const res = await post(`${base}/pagopa/paForNode`, body);
      expect(res.status).toBe(500);
      expect(soapFaultCode(res.text)).toBe('PAA_SINTASSI_EXTRAXSD');
      expect((await fetch(`${base}/pagopa/paForNode?wsdl`)).status).toBe(200);
    },
  );

  test('metrics have the latency histogram by primitive and outcome and the fault counter by code', async () => {
    await post(`${base}/pagopa/paForNode`, fixture('garbage.not-xml.txt'));
    await post(`${base}/pagopa/paForNode`, fixture('pa-send-rt.amounts-mismatch.xml'));
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /soap_request_duration_seconds_count\{primitive="unknown",outcome="FAULT"\} \d+/,
    );
    expect(text).toMatch(
      /soap_request_duration_seconds_count\{primitive="paSendRTReq",outcome="KO"\} \d+/,
    );
    expect(text).toMatch(
      /soap_faults_total\{primitive="unknown",fault_code="PAA_SINTASSI_EXTRAXSD"\} [1-9]/,
    );
    expect(text).toMatch(
      /soap_faults_total\{primitive="paSendRTReq",fault_code="PAA_SEMANTICA"\} 1/,
    );
  });

  test('a chunked body (no Content-Length) over the limit is 413 too, and nothing is stored', async () => {
    const huge = fixture('pa-send-rt.ok.xml').replace(
      '<description>',
      `<description>${'x'.repeat(70 * 1024)}`,
    );
    const res = await new Promise<{ status: number; type: string }>((resolve, reject) => {
      const req = http.request(
        `${base}/pagopa/paForNode`,
        { method: 'POST', headers: { 'content-type': 'text/xml', 'transfer-encoding': 'chunked' } },
        (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, type: r.headers['content-type'] ?? '' });
        },
      );
      // The server may close the connection while the rest is still being written.
      req.on('error', reject);
      for (let i = 0; i < huge.length; i += 8 * 1024) req.write(huge.slice(i, i + 8 * 1024));
      req.end();
    });
    expect(res).toEqual({ status: 413, type: expect.stringMatching(/problem\+json/) as string });
    const row = (await database.db('receipts').count({ n: '*' }).first()) as { n: number };
    expect(Number(row.n)).toBe(0);
  });

  test.each([
    ['another charset', { 'content-type': 'text/xml; charset=iso-8859-1' }, (b: string) => b],
    [
      'a gzip body',
      { 'content-type': 'text/xml', 'content-encoding': 'gzip' },
      (b: string) => zlib.gzipSync(b),
    ],
    ['no content type', {}, (b: string) => b],
  ])(
    'a request with %s is answered as any other (same KO for the same document)',
    async (_what, headers, encode) => {
      const body = fixture('pa-send-rt.amounts-mismatch.xml');
      const plain = await post(`${base}/pagopa/paForNode`, body);
      const res = await fetch(`${base}/pagopa/paForNode`, {
        method: 'POST',
        headers,
        body: encode(body),
      });
      expect(res.status).toBe(plain.status);
      expect(await res.text()).toBe(plain.text);
      expect(plain.text).toContain('PAA_SEMANTICA');
    },
  );

  test("the caller's request id is echoed, and the request is counted under its door", async () => {
    const res = await fetch(`${base}/pagopa/paForNode`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=UTF-8', 'x-request-id': 'node-req-42' },
      body: fixture('pa-send-rt.amounts-mismatch.xml'),
    });
    expect(res.headers.get('x-request-id')).toBe('node-req-42');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/pagopa\/paForNode",status_code="200",server="soap"\} [1-9]/,
    );
  });
});
