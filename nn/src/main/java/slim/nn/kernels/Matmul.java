package slim.nn.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU matrix products of a linear layer, over flat row-major arrays with offsets.
 * Weights are [OC, C] (out, in), as in PyTorch's Linear.
 */
public final class Matmul {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Matmul() {}

    /** out[T, OC] = inp[T, C] · w[OC, C]ᵀ + bias (bias may be null). */
    public static void forward(float[] out, int outOff, float[] inp, int inOff, float[] w, int wOff,
                               float[] bias, int biasOff, int T, int C, int OC) {
        Parallel.forEach(OC, (long) T * C, o -> {
            int wRow = wOff + o * C;
            float b = bias == null ? 0f : bias[biasOff + o];
            for (int t = 0; t < T; t++) {
                out[outOff + t * OC + o] = b + dot(inp, inOff + t * C, w, wRow, C);
            }
        });
    }

    /** dinp += dout·w (skipped when dinp is null), dw += doutᵀ·inp, dbias += column sums of dout. */
    public static void backward(float[] dinp, int dinpOff, float[] dw, int dwOff, float[] dbias, int dbiasOff,
                                float[] dout, int doutOff, float[] inp, int inOff, float[] w, int wOff,
                                int T, int C, int OC) {
        if (dinp != null) {
            Parallel.forEach(T, (long) OC * C, t -> {
                for (int o = 0; o < OC; o++) {
                    axpy(dout[doutOff + t * OC + o], w, wOff + o * C, dinp, dinpOff + t * C, C);
                }
            });
        }
        Parallel.forEach(OC, (long) T * C, o -> {
            float bsum = 0f;
            for (int t = 0; t < T; t++) {
                float d = dout[doutOff + t * OC + o];
                bsum += d;
                axpy(d, inp, inOff + t * C, dw, dwOff + o * C, C);
            }
            if (dbias != null) dbias[dbiasOff + o] += bsum;
        });
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /** y += alpha · x. */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        if (alpha == 0f) return;
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }
}
