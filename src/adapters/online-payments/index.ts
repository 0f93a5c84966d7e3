/**
 * The online-payment starter of a domain, picked by its dialect (see ports.ts):
 * `pagopa` → Checkout cart, `rpt` → RPT(s) through WISP, `mypay` → paaSILInviaDovuti.
 */
import type { DomainConfig } from '../../shared/domains-config';
import {
  createNodeClient,
  MyPayNodeClient,
  NodeClientConfigError,
  PagopaNodeClient,
  RptNodeClient,
  type CreateNodeClientOptions,
} from '../node-client';
import { MyPayOnlinePaymentStarter } from './mypay-starter';
import { PagopaOnlinePaymentStarter } from './pagopa-starter';
import type { OnlinePaymentStarter } from './ports';
import { RptOnlinePaymentStarter } from './rpt-starter';

export * from './ports';
export { MyPayOnlinePaymentStarter, PagopaOnlinePaymentStarter, RptOnlinePaymentStarter };

/**
 * The domain's starter.
 * @throws NodeClientConfigError when the dialect's upstream is not configured (its base URL,
 * CHECKOUT_BASE_URL for `pagopa`, a secret, MyPay's IPA code).
 */
export function createOnlinePaymentStarter(
  domain: DomainConfig,
  options: CreateNodeClientOptions,
): OnlinePaymentStarter {
  if (domain.dialect === 'pagopa' && options.settings.checkoutBaseUrl === undefined) {
    throw new NodeClientConfigError(
      `domain ${domain.fiscalCode} (pagopa): CHECKOUT_BASE_URL is not set`,
    );
  }
  const client = createNodeClient(domain, options);
  if (client instanceof PagopaNodeClient) return new PagopaOnlinePaymentStarter(client);
  if (client instanceof RptNodeClient) return new RptOnlinePaymentStarter(client);
  if (client instanceof MyPayNodeClient) return new MyPayOnlinePaymentStarter(client);
  throw new NodeClientConfigError(`domain ${domain.fiscalCode}: no client for ${domain.dialect}`);
}

/** A station password of the right shape (8..15) that no real node accepts. */
const PLACEHOLDER_PASSWORD = 'not-a-password';
const PLACEHOLDER_KEY = 'not-a-real-key';

/**
 * Outside production: the environment with placeholders for the domain's secrets that are not
 * set, so the demo and tests reach the embedded simulator (which checks none) without inventing
 * variables. In production the environment as it is: a missing secret stays an error.
 */
export function withPlaceholderSecrets(
  domain: DomainConfig,
  env: NodeJS.ProcessEnv,
  production: boolean,
): NodeJS.ProcessEnv {
  if (production) return env;
  const filled: NodeJS.ProcessEnv = { ...env };
  const fill = (name: string | undefined, value: string): void => {
    if (name !== undefined && !filled[name]) filled[name] = value;
  };
  fill(domain.subscriptionKeyEnv, PLACEHOLDER_KEY);
  fill(domain.stationPasswordEnv, PLACEHOLDER_PASSWORD);
  return filled;
}
