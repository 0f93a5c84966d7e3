import { microBatch, type ItemOutcome } from '../../../src/shared/micro-batch';

/** What a run saw, and a settled view of each call. */
function recorder<O>(answer: (items: readonly number[]) => readonly ItemOutcome<O>[]): {
  batches: number[][];
  call: (item: number) => Promise<O>;
  sizes: number[];
} {
  const batches: number[][] = [];
  const sizes: number[] = [];
  const call = microBatch<number, O>({
    maxItems: 3,
    run: (items) => {
      batches.push([...items]);
      return Promise.resolve(answer(items));
    },
    onBatch: (size) => sizes.push(size),
  });
  return { batches, call, sizes };
}

const settle = <T>(
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('microBatch', () => {
  test('calls made in one turn share runs of at most maxItems, in call order', async () => {
    const { batches, call, sizes } = recorder((items) =>
      items.map((i) => ({ ok: true as const, value: i * 10 })),
    );
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7].map(call));
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(sizes).toEqual([3, 3, 1]);
  });

  test('calls made in different turns run separately (a lone call waits for nothing)', async () => {
    const { batches, call } = recorder((items) =>
      items.map((i) => ({ ok: true as const, value: i })),
    );
    expect(await call(1)).toBe(1);
    expect(await call(2)).toBe(2);
    expect(batches).toEqual([[1], [2]]);
  });

  test('each call gets its own outcome: one failing item does not fail its neighbours', async () => {
    const { call } = recorder<number>((items) =>
      items.map((i) =>
        i === 2 ? { ok: false as const, error: new Error('two') } : { ok: true as const, value: i },
      ),
    );
    const results = await Promise.all([1, 2, 3].map((i) => settle(call(i))));
    expect(results).toEqual([
      { ok: true, value: 1 },
      { ok: false, error: new Error('two') },
      { ok: true, value: 3 },
    ]);
  });

  test('a run that rejects, or throws before its first await, fails every call of its batch only', async () => {
    let runs = 0;
    const call = microBatch<number, number>({
      maxItems: 2,
      run: (items) => {
        runs += 1;
        if (runs === 1) throw new Error('sync');
        if (runs === 2) return Promise.reject(new Error('async'));
        return Promise.resolve(items.map((i) => ({ ok: true as const, value: i })));
      },
    });
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => settle(call(i))));
    expect(results).toEqual([
      { ok: false, error: new Error('sync') },
      { ok: false, error: new Error('sync') },
      { ok: false, error: new Error('async') },
      { ok: false, error: new Error('async') },
      { ok: true, value: 5 },
    ]);
  });

  test('a run that answers fewer outcomes than items fails the ones left without', async () => {
    const { call } = recorder<number>(() => [{ ok: true as const, value: 1 }]);
    const results = await Promise.all([1, 2].map((i) => settle(call(i))));
    expect(results[0]).toEqual({ ok: true, value: 1 });
    expect(results[1]).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/1 outcomes for 2/) as string },
    });
  });

  test('maxItems must be a positive integer', () => {
    expect(() => microBatch({ maxItems: 0, run: () => Promise.resolve([]) })).toThrow(RangeError);
    expect(() => microBatch({ maxItems: 1.5, run: () => Promise.resolve([]) })).toThrow(RangeError);
  });
});
