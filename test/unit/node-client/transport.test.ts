/**
 * The outbound policy, through real HTTP interception (nock): timeouts, retries only for reads,
 * circuit breaker per upstream, metrics, TLS agent options, and secrets kept out of the logs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { AppError } from '../../../src/domain/errors';
import {
  nodeHttpSender,
  tlsAgentOptions,
  upstreamError,
  type CallSpec,
} from '../../../src/adapters/node-client/transport';
import { harness, requestCount, useNock } from './helpers';

const BASE = 'https://node.test';

function spec(idempotent: boolean, over: Partial<CallSpec<string>> = {}): CallSpec<string> {
  return {
    dialect: 'rpt',
    operation: idempotent ? 'nodoChiediStatoRPT' : 'nodoInviaRPT',
    upstream: BASE,
    idempotent,
    request: {
      method: 'POST',
      url: `${BASE}/op`,
      headers: { 'ocp-apim-subscription-key': 'KEY-SECRET-123' },
      body: '<x/>',
    },
    interpret: (res) => {
      if (res.status >= 500) throw upstreamError(`HTTP ${res.status}`, {}, { transient: true });
      if (res.status !== 200) throw upstreamError(`HTTP ${res.status}`, { status: res.status });
      return res.body;
    },
    ...over,
  };
}

describe('NodeTransport', () => {
  useNock();

  test('a read is retried on 5xx with exponential backoff, and succeeds on the third attempt', async () => {
    const h = harness();
    nock(BASE).post('/op').reply(503).post('/op').reply(502).post('/op').reply(200, 'done');
    await expect(h.transport.call(spec(true))).resolves.toBe('done');
    expect(h.sleeps).toEqual([75, 150]); // base 100 × 2^(n−1) × (0.5 + 0.5/2)
    expect(
      await requestCount(h.registry, {
        dialect: 'rpt',
        operation: 'nodoChiediStatoRPT',
        outcome: 'error',
      }),
    ).toBe(2);
    expect(
      await requestCount(h.registry, {
        dialect: 'rpt',
        operation: 'nodoChiediStatoRPT',
        outcome: 'ok',
      }),
    ).toBe(1);
  });

  test('a read stops after NODE_RETRY_ATTEMPTS_MAX attempts with the last error', async () => {
    const h = harness();
    const scope = nock(BASE).post('/op').times(3).reply(500);
    await expect(h.transport.call(spec(true))).rejects.toMatchObject({ code: 'upstream-error' });
    expect(scope.isDone()).toBe(true);
  });

  test('a write (nodoInviaRPT) is never retried, even on 5xx', async () => {
    const h = harness();
    nock(BASE).post('/op').reply(503);
    await expect(h.transport.call(spec(false))).rejects.toMatchObject({ code: 'upstream-error' });
    expect(h.sleeps).toEqual([]);
  });

  test('a business refusal is not retried and does not count against the circuit', async () => {
    const h = harness({ circuitFailuresMax: 1 });
    nock(BASE).post('/op').reply(400).post('/op').reply(200, 'ok');
    await expect(h.transport.call(spec(true))).rejects.toMatchObject({ details: { status: 400 } });
    await expect(h.transport.call(spec(true))).resolves.toBe('ok');
    expect(
      await requestCount(h.registry, {
        dialect: 'rpt',
        operation: 'nodoChiediStatoRPT',
        outcome: 'fault',
      }),
    ).toBe(1);
  });

  test('a write that times out fails within the bound as ambiguous, telling how to check', async () => {
    const h = harness({ timeoutMs: 150 });
    nock(BASE).post('/op').delay(600).reply(200, 'late');
    const started = Date.now();
    const err = (await h.transport
      .call(spec(false, { ambiguityHint: 'check with nodoChiediStatoRPT' }))
      .catch((e: unknown) => e)) as AppError;
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe('upstream-error');
    expect(err.details['ambiguous']).toBe(true);
    expect(err.message).toMatch(/may have been accepted, check with nodoChiediStatoRPT/);
    expect(
      await requestCount(h.registry, {
        dialect: 'rpt',
        operation: 'nodoInviaRPT',
        outcome: 'timeout',
      }),
    ).toBe(1);
  });

  test('a read that keeps timing out is retried, then reported as dependency-down', async () => {
    const h = harness({ timeoutMs: 100, retryAttemptsMax: 2 });
    nock(BASE).post('/op').times(2).delay(400).reply(200, 'late');
    const started = Date.now();
    await expect(h.transport.call(spec(true))).rejects.toMatchObject({ code: 'dependency-down' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(h.sleeps).toHaveLength(1);
  });

  test('a refused connection is dependency-down even for a write (nothing was sent)', async () => {
    const h = harness();
    nock(BASE).post('/op').replyWithError({ code: 'ECONNREFUSED', message: 'refused' });
    await expect(h.transport.call(spec(false))).rejects.toMatchObject({
      code: 'dependency-down',
      details: { network: 'ECONNREFUSED' },
    });
  });

  test('the circuit opens after N failures, answers at once, then lets one trial through', async () => {
    let now = 1_000_000;
    const h = harness({
      circuitFailuresMax: 2,
      circuitOpenMs: 5_000,
      retryAttemptsMax: 1,
      now: () => now,
    });
    nock(BASE).post('/op').times(2).reply(503);
    await expect(h.transport.call(spec(true))).rejects.toMatchObject({ code: 'upstream-error' });
    await expect(h.transport.call(spec(true))).rejects.toMatchObject({ code: 'upstream-error' });
    // Open: no request reaches the upstream (nock would fail the test on an unexpected one).
    await expect(h.transport.call(spec(true))).rejects.toMatchObject({
      code: 'dependency-down',
      details: { retryInMs: 5_000 },
    });
    expect(
      await requestCount(h.registry, {
        dialect: 'rpt',
        operation: 'nodoChiediStatoRPT',
        outcome: 'circuit-open',
      }),
    ).toBe(1);
    // Another upstream has its own breaker.
    nock('https://other.test').post('/op').reply(200, 'fine');
    await expect(
      h.transport.call(
        spec(true, {
          upstream: 'https://other.test',
          request: { method: 'POST', url: 'https://other.test/op', headers: {} },
        }),
      ),
    ).resolves.toBe('fine');
    now += 5_000;
    expect(h.transport.breaker(BASE).state).toBe('half-open');
    nock(BASE).post('/op').reply(200, 'back');
    await expect(h.transport.call(spec(true))).resolves.toBe('back');
    expect(h.transport.breaker(BASE).state).toBe('closed');
  });

  test('headers (subscription key) and bodies never reach the logs', async () => {
    const h = harness();
    nock(BASE).post('/op').reply(503).post('/op').reply(200, 'PASSWORD-IN-BODY');
    await h.transport.call(
      spec(true, {
        request: {
          method: 'POST',
          url: `${BASE}/op`,
          headers: { 'ocp-apim-subscription-key': 'KEY-SECRET-123' },
          body: '<password>STATIONPWD1</password>',
        },
      }),
    );
    const all = h.logs.join('\n');
    expect(h.logs.length).toBeGreaterThan(0);
    expect(all).not.toMatch(/KEY-SECRET-123|STATIONPWD1|PASSWORD-IN-BODY/);
  });

  test('the duration histogram is registered on the given registry', async () => {
    const h = harness();
    nock(BASE).post('/op').reply(200, 'x');
    await h.transport.call(spec(true));
    const text = await h.registry.metrics();
    expect(text).toMatch(
      /node_client_request_duration_seconds_count\{dialect="rpt",operation="nodoChiediStatoRPT",outcome="ok"\} 1/,
    );
  });
});

describe('client TLS', () => {
  useNock();
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-tls-'));
    fs.writeFileSync(path.join(dir, 'cert.pem'), 'CERT-PEM');
    fs.writeFileSync(path.join(dir, 'key.pem'), 'KEY-PEM');
    fs.writeFileSync(path.join(dir, 'ca.pem'), 'CA-PEM');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the configured files become the https Agent options (TLS ≥ 1.2)', () => {
    const options = tlsAgentOptions({
      certFile: path.join(dir, 'cert.pem'),
      keyFile: path.join(dir, 'key.pem'),
      caFile: path.join(dir, 'ca.pem'),
    });
    expect((options.cert as Buffer).toString()).toBe('CERT-PEM');
    expect((options.key as Buffer).toString()).toBe('KEY-PEM');
    expect((options.ca as Buffer).toString()).toBe('CA-PEM');
    expect(options.minVersion).toBe('TLSv1.2');
    const sender = nodeHttpSender(options);
    expect((sender.agent.options.cert as Buffer).toString()).toBe('CERT-PEM');
    expect((sender.agent.options.key as Buffer).toString()).toBe('KEY-PEM');
    expect((sender.agent.options.ca as Buffer).toString()).toBe('CA-PEM');
    sender.agent.destroy();
  });

  test('an unreadable file stops the start with its variable name', () => {
    expect(() => tlsAgentOptions({ certFile: path.join(dir, 'missing.pem') })).toThrow(
      /NODE_TLS_CERT_FILE/,
    );
  });

  test('with TLS files the transport sends through node:https with the agent', async () => {
    const h = harness({ tls: { caFile: path.join(dir, 'ca.pem') } });
    nock(BASE)
      .post('/op')
      .matchHeader('ocp-apim-subscription-key', 'KEY-SECRET-123')
      .reply(200, 'via-https');
    await expect(h.transport.call(spec(true))).resolves.toBe('via-https');
    h.transport.close();
  });
});
