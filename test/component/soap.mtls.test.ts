import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parsePaVerifyPaymentNoticeResponse } from '../../src/adapters/pagopa/pa-for-node';
import { optText, parseSoapEnvelope } from '../../src/adapters/pagopa/xml';
import { ConfigError, loadConfig } from '../../src/shared/config';
import { createTestDatabase } from '../helpers/db';
import { fixture } from '../helpers/notice-soap';
import { startTestService, testConfig } from '../helpers/service';

/**
 * In-process mTLS on the SOAP port (SOAP_TLS_*): a throwaway CA made with openssl signs the server
 * certificate, the node's client certificate and an intruder's; a second CA signs a stranger's.
 * Only the node gets through; the others are refused at the handshake or with a SOAP Fault.
 */

const NODE_SUBJECT = 'CN=forwarder.uat.platform.pagopa.it';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA (`<name>.key`, `<name>.crt`) in `dir`. */
function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-subj',
    `/O=Test/CN=${name}`,
  );
}

/** A key and certificate `<name>.key/.crt` for `subject`, signed by the CA `ca`. */
function makeCert(dir: string, ca: string, name: string, subject: string, ext?: string): void {
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  );
  const extArgs: string[] = [];
  if (ext !== undefined) {
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    extArgs.push('-extfile', `${name}.ext`);
  }
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    ...extArgs,
  );
}

type Answer = { status: number; text: string };

describe('SOAP port with in-process mTLS', () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let port: number;
  const file = (name: string) => fs.readFileSync(path.join(dir, name));

  /** An HTTPS call trusting our CA, presenting the client `who` (or no certificate). */
  const call = (
    method: 'GET' | 'POST',
    urlPath: string,
    who: string | undefined,
    body?: string,
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: urlPath,
          ca: file('ca.crt'),
          ...(who === undefined ? {} : { cert: file(`${who}.crt`), key: file(`${who}.key`) }),
          headers: { 'content-type': 'text/xml; charset=utf-8' },
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soap-mtls-'));
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    makeCert(dir, 'ca', 'server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    makeCert(dir, 'ca', 'node', `/C=IT/O=PagoPA S.p.A./${NODE_SUBJECT}`);
    makeCert(dir, 'ca', 'intruder', '/C=IT/O=Someone/CN=intruder.example.org');
    makeCert(dir, 'other-ca', 'stranger', `/C=IT/O=PagoPA S.p.A./${NODE_SUBJECT}`);

    database = await createTestDatabase('soap_mtls');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX: `t-mtls-${process.pid}`,
        SOAP_TLS_CERT_FILE: path.join(dir, 'server.crt'),
        SOAP_TLS_KEY_FILE: path.join(dir, 'server.key'),
        SOAP_TLS_CA_FILE: path.join(dir, 'ca.crt'),
        SOAP_TLS_CLIENT_SUBJECT: NODE_SUBJECT,
      }),
      'soap',
    );
    port = service.ports.soap!;
  });

  afterAll(async () => {
    await service.stop();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the node's certificate gets the WSDL, with an https address", async () => {
    const res = await call('GET', '/pagopa/paForNode?wsdl', 'node');
    expect(res.status).toBe(200);
    expect(res.text).toContain(`location="https://127.0.0.1:`);
  });

  test("the node's certificate reaches the primitives", async () => {
    const res = await call(
      'POST',
      '/pagopa/paForNode',
      'node',
      fixture('pa-verify-payment-notice.xml', { NOTICE_NUMBER: '302999999999999999' }),
    );
    const answer = parsePaVerifyPaymentNoticeResponse(res.text);
    expect(answer.outcome === 'KO' && answer.fault?.faultCode).toBe('PAA_PAGAMENTO_SCONOSCIUTO');
  });

  test('a certificate of our CA with another subject gets a SOAP Fault PAA_ID_INTERMEDIARIO_ERRATO', async () => {
    const res = await call(
      'POST',
      '/pagopa/paForNode',
      'intruder',
      fixture('pa-verify-payment-notice.xml', { NOTICE_NUMBER: '302999999999999999' }),
    );
    expect(res.status).toBe(500);
    const env = parseSoapEnvelope(res.text);
    expect(env.operation).toBe('Fault');
    expect(optText(env.payload, 'faultstring')).toBe('PAA_ID_INTERMEDIARIO_ERRATO');
    expect(res.text).toMatch(/subject does not name the node/);
  });

  test.each([
    ['no client certificate', undefined],
    ['a certificate of another CA, even with the right subject', 'stranger'],
  ])('%s is refused during the TLS handshake', async (_name, who) => {
    await expect(call('GET', '/pagopa/paForNode?wsdl', who)).rejects.toThrow();
  });

  test('a plain HTTP request gets no SOAP answer', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/pagopa/paForNode?wsdl`).catch(() => null);
    expect(res === null || res.status === 400).toBe(true);
  });
});

describe('SOAP_TLS_* configuration', () => {
  test.each([
    [{ SOAP_TLS_CERT_FILE: '/x.crt' }, ['SOAP_TLS_CA_FILE', 'SOAP_TLS_KEY_FILE']],
    [{ SOAP_TLS_CERT_FILE: '/x.crt', SOAP_TLS_KEY_FILE: '/x.key' }, ['SOAP_TLS_CA_FILE']],
    [{ SOAP_TLS_CLIENT_SUBJECT: 'CN=node' }, ['SOAP_TLS_CLIENT_SUBJECT']],
  ])('%j is refused naming %j', (env, keys) => {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems.map((p) => p.key).sort()).toEqual(keys);
  });

  test('all three files (and a subject) give the soapTls settings; none gives plain HTTP', () => {
    expect(loadConfig({}).soapTls).toBeUndefined();
    expect(
      loadConfig({
        SOAP_TLS_CERT_FILE: '/etc/tls/soap.crt',
        SOAP_TLS_KEY_FILE: '/etc/tls/soap.key',
        SOAP_TLS_CA_FILE: '/etc/tls/pagopa-ca.pem',
        SOAP_TLS_CLIENT_SUBJECT: NODE_SUBJECT,
      }).soapTls,
    ).toEqual({
      certFile: '/etc/tls/soap.crt',
      keyFile: '/etc/tls/soap.key',
      caFile: '/etc/tls/pagopa-ca.pem',
      clientSubject: NODE_SUBJECT,
    });
  });

  test('an unreadable certificate file stops the start', async () => {
    await expect(
      startTestService(
        testConfig({
          SOAP_TLS_CERT_FILE: '/nonexistent/soap.crt',
          SOAP_TLS_KEY_FILE: '/nonexistent/soap.key',
          SOAP_TLS_CA_FILE: '/nonexistent/ca.crt',
        }),
        'soap',
      ),
    ).rejects.toThrow(/SOAP_TLS_CERT_FILE: cannot read \/nonexistent\/soap.crt/);
  });
});
