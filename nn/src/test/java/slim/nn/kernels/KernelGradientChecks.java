package slim.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.DoubleSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import slim.nn.Slice;

/**
 * Every backward kernel against central differences of its forward, on small random inputs. The
 * loss is a random linear functional of the output, L = Σ r_i·out_i, so the backward kernel gets
 * dout = r; the cross-entropy kernels are checked against their own loss. Gradients of accumulating
 * kernels start from random values, which must be kept (+=); overwriting kernels start from garbage.
 *
 * <p>Every backend runs these checks on its own kernels: a subclass hands its kernel set to the
 * constructor (KernelGradientCheckTest here for the CPU; TornadoGradientCheckTest in the tornado
 * module). The host touches a buffer only between {@link Kernels#write} and {@link Kernels#read}, as
 * the model does, so kernels that keep buffers on a device are checked as they run in a step.
 */
public abstract class KernelGradientChecks {

    private final Kernels k;
    private final Random random = new Random(20240531);

    protected KernelGradientChecks(Kernels kernels) {
        this.k = kernels;
    }

    /**
     * The forward runs in float, the loss is summed in double: with inputs of order 1, eps = 1e-2
     * keeps the truncation error (eps²·f'''/6) and the rounding error (~1e-7·|out|/eps) near 1e-4.
     */
    private static final float EPS = 1e-2f;
    /**
     * Max |numeric - analytic| allowed, as a fraction of the largest gradient. The checks here land
     * below 6e-5, so a 0.1% slip fails; GELU_ERF against GELU_TANH (3e-4 apart) is the golden tests' job.
     */
    private static final double TOLERANCE = 1e-3;

    // ------------------------------------------------------------------ harness

    private float[] randn(int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (random.nextGaussian() * scale);
        return x;
    }

    private float[] randn(int n) {
        return randn(n, 1);
    }

    /** Σ r_i·out_i in double, after running the forward. */
    private DoubleSupplier linear(Runnable forward, float[] out, float[] r) {
        return () -> {
            forward.run();
            k.read(Slice.of(out));
            double sum = 0;
            for (int i = 0; i < r.length; i++) sum += (double) r[i] * out[i];
            return sum;
        };
    }

    /** dL/dx by central differences, x perturbed in place (and sent to the kernels) and restored. */
    private double[] numeric(float[] x, DoubleSupplier loss) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            float saved = x[i];
            set(x, i, saved + EPS);
            double plus = loss.getAsDouble();
            set(x, i, saved - EPS);
            double minus = loss.getAsDouble();
            set(x, i, saved);
            // The step actually taken in float, not the nominal 2·eps.
            g[i] = (plus - minus) / ((double) (saved + EPS) - (double) (saved - EPS));
        }
        loss.getAsDouble(); // leave the forward's caches as they were for x
        return g;
    }

    private void set(float[] x, int i, float value) {
        x[i] = value;
        k.write(Slice.of(x).sub(i, 1));
    }

    /** The host copies x into dst, which a kernel then changes in place. */
    private void copy(float[] x, float[] dst) {
        System.arraycopy(x, 0, dst, 0, x.length);
        k.write(Slice.of(dst));
    }

    /**
     * The analytic gradient (what backward left in grad, less the prior it accumulated onto; prior
     * null for a kernel that overwrites) equals the numeric gradient of x.
     */
    private void assertGradient(String what, float[] x, DoubleSupplier loss, float[] grad, float[] prior) {
        k.read(Slice.of(grad));
        double[] expected = numeric(x, loss);
        assertEquals(expected.length, grad.length, what + ": gradient length");
        double maxRef = 0, maxDiff = 0;
        int worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double analytic = prior == null ? grad[i] : (double) grad[i] - prior[i];
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            double d = Math.abs(expected[i] - analytic);
            if (d > maxDiff || Double.isNaN(d)) {
                maxDiff = d;
                worst = i;
                if (Double.isNaN(d)) break;
            }
        }
        assertTrue(maxRef > 1e-3, what + ": the numeric gradient is all but zero, the check would prove nothing");
        double allowed = TOLERANCE * maxRef, diff = maxDiff;
        int at = worst;
        assertTrue(
                diff <= allowed,
                () -> what + ": max |numeric - analytic| " + diff + " at " + at + " (numeric " + expected[at]
                        + ", analytic " + (prior == null ? grad[at] : grad[at] - prior[at]) + "), allowed " + allowed);
    }

    /** A gradient buffer for an accumulating kernel: random values the kernel must add to. */
    private float[] prior(int n) {
        return randn(n);
    }

    // ------------------------------------------------------------------ kernels

    @Test
    void embedding() {
        int T = 6, C = 5, rows = 4;
        int[] ids = {2, 0, 2, 3, 2, 1}; // repeated ids: their gradients add up
        float[] table = randn(rows * C), out = new float[T * C], r = randn(T * C);
        float[] base = randn(T * C);
        for (boolean accumulate : new boolean[] {false, true}) {
            Runnable forward = () -> {
                copy(base, out);
                k.embeddingForward(Slice.of(out), Slice.of(table), ids, T, C, accumulate);
            };
            forward.run();
            float[] prior = prior(table.length), dtable = prior.clone();
            k.embeddingBackward(Slice.of(dtable), Slice.of(r), ids, T, C);
            assertGradient(
                    "embedding table (accumulate " + accumulate + ")", table, linear(forward, out, r), dtable, prior);
        }
    }

    @Test
    void layerNorm() {
        int T = 3, C = 10;
        float[] inp = randn(T * C, 2), w = randn(C), b = randn(C), out = new float[T * C], r = randn(T * C);
        float[] mean = new float[T], rstd = new float[T];
        for (int i = 0; i < inp.length; i++) inp[i] += 1.5f; // a mean away from zero
        Runnable forward = () -> k.layerNormForward(
                Slice.of(out), Slice.of(mean), Slice.of(rstd), Slice.of(inp), Slice.of(w), Slice.of(b), T, C, 1e-5f);
        forward.run();
        float[] pInp = prior(inp.length), pW = prior(C), pB = prior(C);
        float[] dinp = pInp.clone(), dw = pW.clone(), db = pB.clone();
        k.layerNormBackward(
                Slice.of(dinp),
                Slice.of(dw),
                Slice.of(db),
                Slice.of(r),
                Slice.of(inp),
                Slice.of(w),
                Slice.of(mean),
                Slice.of(rstd),
                T,
                C);
        DoubleSupplier loss = linear(forward, out, r);
        assertGradient("layerNorm input", inp, loss, dinp, pInp);
        assertGradient("layerNorm weight", w, loss, dw, pW);
        assertGradient("layerNorm bias", b, loss, db, pB);
    }

    @Test
    void rmsNorm() {
        int T = 3, C = 10;
        float[] inp = randn(T * C, 2), w = randn(C), out = new float[T * C], r = randn(T * C), rstd = new float[T];
        Runnable forward =
                () -> k.rmsNormForward(Slice.of(out), Slice.of(rstd), Slice.of(inp), Slice.of(w), T, C, 1e-6f);
        forward.run();
        float[] pInp = prior(inp.length), pW = prior(C);
        float[] dinp = pInp.clone(), dw = pW.clone();
        k.rmsNormBackward(Slice.of(dinp), Slice.of(dw), Slice.of(r), Slice.of(inp), Slice.of(w), Slice.of(rstd), T, C);
        DoubleSupplier loss = linear(forward, out, r);
        assertGradient("rmsNorm input", inp, loss, dinp, pInp);
        assertGradient("rmsNorm weight", w, loss, dw, pW);
    }

    @Test
    void matmul() {
        // C beyond one vector and not a multiple of any vector width; T·OC small enough to check fully.
        int T = 4, C = 37, OC = 9;
        float[] inp = randn(T * C), w = randn(OC * C), bias = randn(OC), out = new float[T * OC], r = randn(T * OC);
        Runnable forward = () -> k.matmulForward(Slice.of(out), Slice.of(inp), Slice.of(w), Slice.of(bias), T, C, OC);
        forward.run();
        float[] pInp = prior(inp.length), pW = prior(w.length), pB = prior(OC);
        float[] dinp = pInp.clone(), dw = pW.clone(), dbias = pB.clone();
        k.matmulBackward(
                Slice.of(dinp), Slice.of(dw), Slice.of(dbias), Slice.of(r), Slice.of(inp), Slice.of(w), T, C, OC, true);
        DoubleSupplier loss = linear(forward, out, r);
        assertGradient("matmul input", inp, loss, dinp, pInp);
        assertGradient("matmul weight", w, loss, dw, pW);
        assertGradient("matmul bias", bias, loss, dbias, pB);

        // Not accumulating: the input gradient replaces what dinp held.
        float[] stored = pInp.clone();
        k.matmulBackward(Slice.of(stored), null, null, Slice.of(r), Slice.of(inp), Slice.of(w), T, C, OC, false);
        assertGradient("matmul input, stored", inp, loss, stored, null);

        // Without a bias, and without an input gradient (the input is not trained).
        Runnable noBias = () -> k.matmulForward(Slice.of(out), Slice.of(inp), Slice.of(w), null, T, C, OC);
        noBias.run();
        float[] dwOnly = pW.clone();
        k.matmulBackward(null, Slice.of(dwOnly), null, Slice.of(r), Slice.of(inp), Slice.of(w), T, C, OC, true);
        assertGradient("matmul weight (no bias, no dinp)", w, linear(noBias, out, r), dwOnly, pW);
    }

    /**
     * The CPU's three attention paths as head widths at this JVM's vector width ({@link Vectors}, which
     * the build sets to each width in turn): heads narrower than two vectors (keys transposed; T past
     * one vector so the loops along the sequence fill one), heads of exactly four vectors (rows held in
     * registers), and the general loops along D (with a tail past the last vector).
     */
    enum Heads {
        NARROW,
        FOUR_VECTORS,
        GENERAL;

        int width() {
            int lanes = Vectors.SPECIES.length();
            return switch (this) {
                case NARROW -> Math.max(2, lanes / 4);
                case FOUR_VECTORS -> 4 * lanes;
                case GENERAL -> 2 * lanes + 3;
            };
        }

        int positions() {
            return this == NARROW ? Vectors.SPECIES.length() + 3 : 5;
        }
    }

    /**
     * Each path with multi-head, grouped-query and multi-query heads, causal or not, with dropout or
     * not, over every query row; then query rows [q0, q0 + Tq) of the T: the last two (a last-token
     * head, or the rows after a cached prefix) and the first alone ([CLS]).
     */
    static Stream<Arguments> attentionShapes() {
        int[][] groups = {{3, 3}, {4, 2}, {4, 1}};
        Stream.Builder<Arguments> shapes = Stream.builder();
        for (Heads heads : Heads.values()) {
            int T = heads.positions();
            for (int[] g : groups) {
                for (boolean causal : new boolean[] {true, false}) {
                    for (boolean dropout : new boolean[] {false, true}) {
                        shapes.add(Arguments.of(heads, g[0], g[1], causal, dropout, 0, T));
                    }
                }
            }
            shapes.add(Arguments.of(heads, 4, 2, true, true, T - 2, 2));
            shapes.add(Arguments.of(heads, 4, 1, false, false, 0, 1));
        }
        return shapes.build();
    }

    @ParameterizedTest(name = "{0} H={1} KV={2} causal={3} dropout={4} queries [{5}, +{6})")
    @MethodSource("attentionShapes")
    void attention(Heads heads, int H, int KV, boolean causal, boolean dropout, int q0, int Tq) {
        int T = heads.positions(), D = heads.width(), row = (H + 2 * KV) * D;
        float[] qkv = randn(T * row), out = new float[T * H * D], att = new float[H * T * T], r = randn(T * H * D);
        Slice mask = null;
        if (dropout) {
            mask = Slice.allocate(H * T * T);
            k.dropoutMask(mask, H * T * T, 0.25f, 7);
        }
        Slice dropMask = mask;
        AttentionShape shape = new AttentionHeads(H, KV, D, causal).rows(T, q0, Tq);
        Runnable forward = () -> k.attentionForward(Slice.of(out), Slice.of(att), Slice.of(qkv), dropMask, shape);
        forward.run();
        float[] dqkv = randn(qkv.length), datt = randn(att.length); // overwritten, and scratch
        k.attentionBackward(Slice.of(dqkv), Slice.of(datt), Slice.of(r), Slice.of(qkv), Slice.of(att), dropMask, shape);
        assertGradient("attention qkv", qkv, linear(forward, out, r), dqkv, null);
    }

    @Test
    void rope() {
        int T = 4, H = 4, KV = 2, D = 6, half = D / 2, row = (H + 2 * KV) * D;
        float[] cos = new float[T * half], sin = new float[T * half];
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < half; i++) {
                double angle = t * Math.pow(10000, -2.0 * i / D) + 0.3 * i; // every pair turns by a different angle
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
        float[] x = randn(T * row), out = new float[x.length], r = randn(x.length);
        Runnable forward = () -> { // in place: rotate a copy of the input
            copy(x, out);
            k.ropeForward(Slice.of(out), Slice.of(cos), Slice.of(sin), T, H, KV, D);
        };
        forward.run();
        float[] dx = r.clone();
        k.ropeBackward(Slice.of(dx), Slice.of(cos), Slice.of(sin), T, H, KV, D);
        assertGradient("rope qkv (v passes unrotated)", x, linear(forward, out, r), dx, null);
    }

    @ParameterizedTest
    @EnumSource(Nonlinearity.class)
    void activation(Nonlinearity act) {
        int N = 40;
        float[] inp = randn(N, 2), out = new float[N], r = randn(N);
        // ReLU has no derivative at 0: keep every input a few steps away from it.
        for (int i = 0; i < N; i++) if (Math.abs(inp[i]) < 4 * EPS) inp[i] += inp[i] < 0 ? -0.1f : 0.1f;
        Runnable forward = () -> k.activationForward(act, Slice.of(out), Slice.of(inp), N);
        forward.run();
        float[] prior = prior(N), dinp = prior.clone();
        k.activationBackward(act, Slice.of(dinp), Slice.of(inp), Slice.of(r), N);
        assertGradient(act + " input", inp, linear(forward, out, r), dinp, prior);
    }

    @Test
    void swiglu() {
        int T = 3, I = 7;
        float[] gateUp = randn(T * 2 * I, 2), out = new float[T * I], r = randn(T * I);
        Runnable forward = () -> k.swigluForward(Slice.of(out), Slice.of(gateUp), T, I);
        forward.run();
        float[] dgateUp = randn(gateUp.length); // overwritten
        k.swigluBackward(Slice.of(dgateUp), Slice.of(gateUp), Slice.of(r), T, I);
        assertGradient("swiglu gate and up", gateUp, linear(forward, out, r), dgateUp, null);
    }

    @Test
    void meanRows() {
        int T = 5, C = 6;
        float[] inp = randn(T * C), out = randn(C), r = randn(C);
        Runnable forward = () -> k.meanRowsForward(Slice.of(out), Slice.of(inp), T, C);
        forward.run();
        float[] prior = prior(inp.length), dinp = prior.clone();
        k.meanRowsBackward(Slice.of(dinp), Slice.of(r), T, C);
        assertGradient("meanRows input", inp, linear(forward, out, r), dinp, prior);
    }

    @ParameterizedTest(name = "candidates={0}")
    @CsvSource({"false", "true"})
    void crossEntropy(boolean restricted) {
        int n = 3, V = 8;
        int[] targets = {5, 1, 3};
        int[] candidates = restricted ? new int[] {1, 3, 5, 6} : null;
        float[] logits = randn(n * V, 2), probs = new float[n * V], rowLosses = new float[n];
        DoubleSupplier loss = () -> {
            k.crossEntropyForward(Slice.of(rowLosses), Slice.of(probs), Slice.of(logits), targets, candidates, n, V);
            k.read(Slice.of(rowLosses));
            double sum = 0;
            for (float l : rowLosses) sum += l;
            return sum / n;
        };
        loss.getAsDouble();
        float[] dlogits = randn(logits.length); // overwritten
        k.crossEntropyBackward(Slice.of(dlogits), Slice.of(probs), targets, candidates, n, V);
        assertGradient("crossEntropy logits", logits, loss, dlogits, null);
        if (restricted) { // the other columns take no part: exactly zero
            for (int row = 0; row < n; row++) {
                for (int j : new int[] {0, 2, 4, 7})
                    assertEquals(0f, dlogits[row * V + j], "column " + j + " of row " + row);
            }
        }
    }

    @Test
    void dropoutMultiply() {
        int N = 50;
        float p = 0.3f;
        Slice mask = Slice.allocate(N);
        k.dropoutMask(mask, N, p, 11);
        k.read(mask);
        int dropped = 0;
        for (int i = 0; i < N; i++) {
            float m = mask.get(i);
            assertTrue(m == 0f || m == 1f / (1f - p), "mask value " + m);
            if (m == 0f) dropped++;
        }
        assertTrue(dropped > 0 && dropped < N, "some but not all dropped: " + dropped);
        float[] x = randn(N), out = new float[N], r = randn(N);
        Runnable forward = () -> { // in place on a copy, as the model does on its activations
            copy(x, out);
            k.multiply(Slice.of(out), mask, N);
        };
        forward.run();
        float[] dx = r.clone();
        k.multiply(Slice.of(dx), mask, N);
        assertGradient("dropout input", x, linear(forward, out, r), dx, null);
    }
}
