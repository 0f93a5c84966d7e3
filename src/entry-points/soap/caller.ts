import { AppError } from '../../domain/errors';
import type { DomainConfig, Domains } from '../../shared/domains-config';

export type CallerIds = { idPA: string; idBrokerPA: string; idStation: string };

/**
 * Checks that the node is calling for a domain we serve, through that domain's broker and
 * station, and (when the domain has an allowlist) from an allowed address.
 * @throws AppError('domain-unknown' | 'broker-unknown' | 'station-unknown' | 'forbidden')
 */
export function checkCaller(
  domains: Domains,
  ids: CallerIds,
  remoteAddress: string | undefined,
): DomainConfig {
  const domain = domains.find(ids.idPA);
  if (domain === undefined) {
    throw new AppError('domain-unknown', `idPA ${ids.idPA} is not a domain of this station`);
  }
  if (domain.brokerFiscalCode !== ids.idBrokerPA) {
    throw new AppError(
      'broker-unknown',
      `idBrokerPA ${ids.idBrokerPA} is not the broker of ${ids.idPA}`,
    );
  }
  if (domain.stationId !== ids.idStation) {
    throw new AppError(
      'station-unknown',
      `idStation ${ids.idStation} is not the station of ${ids.idPA}`,
    );
  }
  if (domain.allowedIps !== undefined && !domain.allowedIps.includes(normaliseIp(remoteAddress))) {
    throw new AppError('forbidden', `calls for ${ids.idPA} are not allowed from this address`);
  }
  return domain;
}

/** `::ffff:10.0.0.1` (IPv4 seen through an IPv6 socket) is `10.0.0.1` for the allowlist. */
const normaliseIp = (address: string | undefined): string =>
  (address ?? '').replace(/^::ffff:/, '');
