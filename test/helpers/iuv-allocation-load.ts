/** Block sizes a caller cycles through: mostly single notices, now and then a billing-sized block. */
const BLOCK_SIZES = [1, 1, 2, 1, 5, 1, 13, 3, 1, 50];

/**
 * Allocates `total` bases through `allocate` in blocks of varying size, one call after another,
 * as one caller would. `caller` shifts the cycle so concurrent callers do not move in step.
 */
export async function allocateInBlocks(
  total: number,
  caller: number,
  allocate: (count: number) => Promise<string[]>,
): Promise<string[]> {
  const bases: string[] = [];
  for (let call = caller; bases.length < total; call++) {
    const size = Math.min(BLOCK_SIZES[call % BLOCK_SIZES.length] ?? 1, total - bases.length);
    const block = await allocate(size);
    if (block.length !== size) throw new Error(`asked ${size} bases, got ${block.length}`);
    bases.push(...block);
  }
  return bases;
}
