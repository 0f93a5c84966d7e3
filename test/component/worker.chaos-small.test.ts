import { runChaos } from '../chaos/chaos';

/**
 * The chaos run in small (the full one is `npm run test:chaos`): 600 receipts, 30 % resent, through
 * two soap processes to two workers, one worker SIGKILLed mid-run and Redis cut for 2 s.
 */
test('600 receipts through a killed worker and a Redis outage: none lost, none doubled', async () => {
  const lines: string[] = [];
  const result = await runChaos({
    receipts: 600,
    resendShare: 0.3,
    workerKills: 1,
    redisCuts: 1,
    mariadbCuts: 0,
    outageMs: 2_000,
    settleTimeoutMs: 75_000,
    log: (line) => lines.push(line),
  });

  expect({ ...result, log: lines }).toMatchObject({
    answeredOk: 600,
    lost: 0,
    doubled: 0,
    failedWithoutReason: 0,
    balanceMismatches: 0,
    ledgerVerifyExit: 0,
    states: { RECONCILED: 600 },
  });
}, 150_000);
