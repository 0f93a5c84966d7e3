/**
 * Shared setup of the node-client tests: a transport with instant backoff, its own metrics
 * registry, a logger whose lines are kept for assertions, and the WSDL catalog.
 */
import { Writable } from 'node:stream';
import nock from 'nock';
import { Registry } from 'prom-client';
import { createLogger } from '../../../src/shared/logger';
import { NodeTransport, type TransportOptions } from '../../../src/adapters/node-client/transport';
import { WsdlCatalog } from '../../../src/adapters/node-client/wsdl-catalog';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../../src/shared/paths';
import type { DomainConfig } from '../../../src/shared/domains-config';

export const wsdl = WsdlCatalog.load(path.join(PACKAGE_ROOT, 'wsdl'));

export interface Harness {
  readonly transport: NodeTransport;
  readonly registry: Registry;
  readonly logs: string[];
  readonly sleeps: number[];
}

export function harness(overrides: Partial<TransportOptions> = {}): Harness {
  const registry = new Registry();
  const logs: string[] = [];
  const sleeps: number[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const transport = new NodeTransport({
    timeoutMs: 2_000,
    retryAttemptsMax: 3,
    retryBackoffBaseMs: 100,
    circuitFailuresMax: 50,
    circuitOpenMs: 30_000,
    registry,
    logger: createLogger('trace', stream),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    ...overrides,
  });
  return { transport, registry, logs, sleeps };
}

/** The value of node_client_requests_total for these labels (0 when never counted). */
export async function requestCount(
  registry: Registry,
  labels: { dialect: string; operation: string; outcome: string },
): Promise<number> {
  const metric = await registry.getSingleMetric('node_client_requests_total')?.get();
  const v = metric?.values.find(
    (x) =>
      x.labels['dialect'] === labels.dialect &&
      x.labels['operation'] === labels.operation &&
      x.labels['outcome'] === labels.outcome,
  );
  return v?.value ?? 0;
}

export function useNock(): void {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  beforeEach(() => nock.cleanAll());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
  afterAll(() => nock.enableNetConnect());
}

export const baseDomain = {
  name: 'Comune di Prova',
  brokerFiscalCode: '77777777777',
  stationId: '77777777777_01',
  auxDigit: 3,
  segregationCode: '02',
  cardCodeAlgorithm: 'mod93',
  accounts: {
    CANTEEN: { overdraftLimitCents: 0, topUpMinCents: 100, topUpMaxCents: 50000 },
    NURSERY_MEALS: { overdraftLimitCents: 0, topUpMinCents: 100, topUpMaxCents: 50000 },
    SCHOOL_TRANSPORT: { overdraftLimitCents: 0, topUpMinCents: 100, topUpMaxCents: 50000 },
  },
  services: [
    {
      code: 'CANTEEN',
      description: 'Mensa scolastica',
      taxonomyCode: '0107101TS',
      iban: 'IT60X0542811101000000123456',
    },
  ],
} as const;

export function aDomain(over: Partial<DomainConfig> & Pick<DomainConfig, 'dialect'>): DomainConfig {
  return { ...baseDomain, fiscalCode: '77777777777', ...over } as DomainConfig;
}
