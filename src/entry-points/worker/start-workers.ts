import { Worker, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/logger';
import type { Lifecycle } from '../../shared/lifecycle';

/** A queue this process consumes: its name, its processor and how many jobs run at once. */
export type WorkerDefinition = {
  queueName: string;
  processor: Processor;
  concurrency: number;
};

/**
 * Starts one BullMQ worker per definition on the shared worker connection and registers each
 * with the lifecycle. `worker.close()` waits for the active jobs to finish, so a deploy never
 * cuts a reconciliation in half; a crash is covered by BullMQ's stalled-job check instead.
 */
export function startWorkers(options: {
  definitions: readonly WorkerDefinition[];
  connection: Redis;
  prefix: string;
  logger: Logger;
  lifecycle: Lifecycle;
}): Worker[] {
  return options.definitions.map((definition) => {
    const worker = new Worker(definition.queueName, definition.processor, {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: definition.concurrency,
      autorun: true,
    });
    worker.on('error', (err) => {
      options.logger.error({ err, queue: definition.queueName }, 'worker error');
    });
    options.lifecycle.add(`worker:${definition.queueName}`, () => worker.close());
    options.logger.info(
      { queue: definition.queueName, concurrency: definition.concurrency },
      'worker started',
    );
    return worker;
  });
}
