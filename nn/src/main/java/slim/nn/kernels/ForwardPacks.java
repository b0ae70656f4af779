package slim.nn.kernels;

import java.util.HashMap;
import java.util.Map;

/**
 * The forward product's weights packed once and kept while they stay fixed ({@link Kernels#weightsFixed}: an
 * evaluation pass), instead of packed again by every call: in a profile of a GPT-2-small evaluation, with several
 * examples stacked per call, packing w transposed took as many samples as the products' tiles (bench/README.md,
 * "One epoch of the study's cell"). The packs hold the floats a call would pack, so a product has the same bits with
 * them or without. Kept up to a budget of floats; a weight beyond it is packed per call, as without them.
 */
final class ForwardPacks {
    /** A weight by identity: its array (compared as the same object, not by content), offset and shape. */
    private record Key(float[] w, int offset, int C, int OC) {}

    private final Map<Key, float[][][]> packs = new HashMap<>();
    private long budget;

    /** @param budgetFloats most floats to keep, over every weight */
    ForwardPacks(long budgetFloats) {
        this.budget = budgetFloats;
    }

    /**
     * The packs of w's first tiledOC rows: [band of TILE_C rows][block of inputs] → the block packed transposed,
     * null until the product's task for that band first packs it. Null when w does not fit the budget left.
     * Called by the thread that runs the product, before its tasks.
     */
    float[][][] of(float[] w, int offset, int C, int tiledOC, int bandRows, int blockInputs) {
        return packs.computeIfAbsent(new Key(w, offset, C, tiledOC), key -> {
            long floats = (long) tiledOC * C;
            if (floats > budget) return null;
            budget -= floats;
            return new float[tiledOC / bandRows][(C + blockInputs - 1) / blockInputs][];
        });
    }

    /** Half the heap that is free now, in floats: what an evaluation pass may keep without crowding the cell. */
    static long halfTheFreeHeap() {
        Runtime r = Runtime.getRuntime();
        long free = r.maxMemory() - (r.totalMemory() - r.freeMemory());
        return Math.max(0, free / 2 / Float.BYTES);
    }
}
