package slim.nn.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * Splits a loop over independent items across the cores. Small loops run on the calling thread:
 * on a 2-core machine a fork costs more than a few thousand flops.
 */
public final class Parallel {
    /** Below this much work (in multiply-adds) a loop is not worth splitting. */
    private static final long MIN_WORK = 1 << 15;
    /** Own pool: the common pool has cores - 1 workers, and a caller outside it only waits. */
    private static final ForkJoinPool POOL = new ForkJoinPool(
            Integer.getInteger("slim.threads", Runtime.getRuntime().availableProcessors()));

    private Parallel() {}

    public static int threads() {
        return Math.max(1, POOL.getParallelism());
    }

    /** Runs body(i) for i in [0, n); workPerItem estimates each item's cost to decide whether to split. */
    public static void forEach(int n, long workPerItem, IntConsumer body) {
        int chunks = (int) Math.min(n, Math.max(1, Math.min(threads() * 4L, n * workPerItem / MIN_WORK)));
        if (chunks <= 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        POOL.invoke(new Range(body, 0, n, Math.max(1, (n + chunks - 1) / chunks)));
    }

    private static final class Range extends RecursiveAction {
        private final IntConsumer body;
        private final int from, to, grain;

        Range(IntConsumer body, int from, int to, int grain) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.grain = grain;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                for (int i = from; i < to; i++) body.accept(i);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(body, from, mid, grain), new Range(body, mid, to, grain));
        }
    }
}
