package slim.bench;

import java.util.Arrays;
import java.util.SplittableRandom;
import slim.nn.Slice;
import slim.nn.kernels.Matmul;

/**
 * GFLOP/s of each of a linear layer's three products separately (JMH's MatmulBenchmark times the two
 * backward products together): forward, then the weight gradient alone (Matmul.backward without
 * dinp), then both backward products, the input gradient's time being the difference. The three run
 * interleaved, so load on a shared machine falls on all of them alike; medians of `reps` calls.
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar slim.bench.MatmulProducts 128 768 3072 40
 * }</pre>
 * (T, C, OC, reps); -Dslim.threads=1 measures one core; -Dslim.coldCaches=true makes every product
 * fetch its operands from memory, as the layers' products do inside a training step.
 */
public final class MatmulProducts {
    /** -Dslim.coldCaches=true: 64 MiB overwritten before every product (this machine's L3 is 32 MiB). */
    private static final float[] EVICT = Boolean.getBoolean("slim.coldCaches") ? new float[16 << 20] : null;

    public static void main(String[] args) {
        int T = Integer.parseInt(args[0]), C = Integer.parseInt(args[1]), OC = Integer.parseInt(args[2]);
        int reps = Integer.parseInt(args[3]);
        SplittableRandom random = new SplittableRandom(1);
        float[] inp = random(random, T * C), w = random(random, OC * C), dout = random(random, T * OC);
        float[] out = new float[T * OC], dinp = new float[T * C], dw = new float[OC * C];
        long[] forward = new long[reps], weight = new long[reps], input = new long[reps];
        for (int i = 0; i < reps; i++) {
            evict(i);
            long t0 = System.nanoTime();
            Matmul.forward(Slice.of(out), Slice.of(inp), Slice.of(w), null, T, C, OC);
            long t1 = System.nanoTime();
            evict(i);
            long t2 = System.nanoTime();
            Matmul.backward(null, Slice.of(dw), null, Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC);
            long t3 = System.nanoTime();
            evict(i);
            long t4 = System.nanoTime();
            Matmul.backward(Slice.of(dinp), Slice.of(dw), null, Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC);
            long t5 = System.nanoTime();
            forward[i] = t1 - t0;
            weight[i] = t3 - t2;
            input[i] = (t5 - t4) - (t3 - t2);
            if (i % 10 == 9) { // keep the accumulated gradients from growing without bound
                Arrays.fill(dw, 0f);
                Arrays.fill(dinp, 0f);
            }
        }
        double flop = 2.0 * T * C * OC;
        System.out.printf(
                "T=%d %dx%d%s: forward %.0f, input gradient %.0f, weight gradient %.0f GFLOP/s%n",
                T,
                C,
                OC,
                EVICT == null ? "" : " (cold caches)",
                flop / median(forward),
                flop / median(input),
                flop / median(weight));
    }

    /** Writes over twice the L3 before each product, so its operands come from memory as inside a step. */
    private static void evict(int value) {
        if (EVICT != null) Arrays.fill(EVICT, value);
    }

    private static double median(long[] x) {
        long[] sorted = x.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static float[] random(SplittableRandom random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (random.nextDouble() - 0.5);
        return x;
    }
}
