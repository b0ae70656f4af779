package slim.nn.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention for heads exactly four vectors wide: D = 64 with AVX-512, the head width of GPT-2,
 * GPT2-XL and OPT-1.3b. The query's own row (q, and dout in backward) and the row it accumulates
 * (out, or dq) are held in registers across the whole sweep over keys, so each (query, key) pair
 * loads only the key's rows: 16 loads and 8 stores per pair in backward instead of the 36 and 12 of
 * the loops along D in CpuKernels, which stay for other widths.
 */
final class FourVectorAttention {
    private static final VectorSpecies<Float> S = Vectors.SPECIES;
    private static final int L = S.length();

    private FourVectorAttention() {}

    static boolean fits(int D) {
        return D == 4 * L;
    }

    static void forward(
            float[] o,
            int oOff,
            float[] a,
            int aOff,
            float[] q,
            int qkvOff,
            float[] mask,
            int maskOff,
            int T,
            int q0,
            int Tq,
            int H,
            int KV,
            int D,
            boolean causal) {
        int row = (H + 2 * KV) * D, group = H / KV;
        float scale = (float) (1.0 / Math.sqrt(D));
        Parallel.forEach(H * Tq, 2L * T * D, ht -> {
            int h = ht / Tq, t = q0 + ht % Tq, g = h / group;
            int qo = qkvOff + t * row + h * D, ko = qkvOff + H * D + g * D, vo = qkvOff + (H + KV) * D + g * D;
            int ao = aOff + (h * T + t) * T, len = causal ? t + 1 : T;
            FloatVector r0 = FloatVector.fromArray(S, q, qo), r1 = FloatVector.fromArray(S, q, qo + L);
            FloatVector r2 = FloatVector.fromArray(S, q, qo + 2 * L), r3 = FloatVector.fromArray(S, q, qo + 3 * L);
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < len; s++) {
                int k = ko + s * row;
                float sc = r0.mul(FloatVector.fromArray(S, q, k))
                                .add(r1.mul(FloatVector.fromArray(S, q, k + L)))
                                .add(r2.mul(FloatVector.fromArray(S, q, k + 2 * L)))
                                .add(r3.mul(FloatVector.fromArray(S, q, k + 3 * L)))
                                .reduceLanes(VectorOperators.ADD)
                        * scale;
                a[ao + s] = sc;
                if (sc > max) max = sc;
            }
            CpuKernels.expNormalize(a, ao, a, ao, len, max);
            java.util.Arrays.fill(a, ao + len, ao + T, 0f);
            FloatVector y0 = FloatVector.zero(S), y1 = y0, y2 = y0, y3 = y0;
            int mo = maskOff + (h * T + t) * T;
            for (int s = 0; s < len; s++) {
                FloatVector p = FloatVector.broadcast(S, mask == null ? a[ao + s] : a[ao + s] * mask[mo + s]);
                int v = vo + s * row;
                y0 = FloatVector.fromArray(S, q, v).fma(p, y0);
                y1 = FloatVector.fromArray(S, q, v + L).fma(p, y1);
                y2 = FloatVector.fromArray(S, q, v + 2 * L).fma(p, y2);
                y3 = FloatVector.fromArray(S, q, v + 3 * L).fma(p, y3);
            }
            int out = oOff + t * H * D + h * D;
            y0.intoArray(o, out);
            y1.intoArray(o, out + L);
            y2.intoArray(o, out + 2 * L);
            y3.intoArray(o, out + 3 * L);
        });
    }

    static void backward(
            float[] dq,
            int dqkvOff,
            float[] datt,
            int dattOff,
            float[] dout,
            int doutOff,
            float[] q,
            int qkvOff,
            float[] a,
            int aOff,
            float[] mask,
            int maskOff,
            int T,
            int q0,
            int Tq,
            int H,
            int KV,
            int D,
            boolean causal) {
        int row = (H + 2 * KV) * D, group = H / KV;
        float scale = (float) (1.0 / Math.sqrt(D));
        CpuKernels.perKvHead(dq, dqkvOff, T, Tq, H, KV, D, causal, g -> {
            int ko = qkvOff + H * D + g * D, vo = qkvOff + (H + KV) * D + g * D;
            int dko = dqkvOff + H * D + g * D, dvo = dqkvOff + (H + KV) * D + g * D;
            for (int h = g * group; h < (g + 1) * group; h++) {
                for (int t = q0; t < q0 + Tq; t++) {
                    int len = causal ? t + 1 : T;
                    int ao = aOff + (h * T + t) * T, dao = dattOff + (h * T + t) * T, mo = maskOff + (h * T + t) * T;
                    int doo = doutOff + t * H * D + h * D, qo = qkvOff + t * row + h * D;
                    FloatVector d0 = FloatVector.fromArray(S, dout, doo), d1 = FloatVector.fromArray(S, dout, doo + L);
                    FloatVector d2 = FloatVector.fromArray(S, dout, doo + 2 * L),
                            d3 = FloatVector.fromArray(S, dout, doo + 3 * L);
                    // dP = dout · v through the dropout mask; dv += P·mask ⊗ dout
                    float sum = 0f;
                    for (int s = 0; s < len; s++) {
                        float m = mask == null ? 1f : mask[mo + s];
                        int v = vo + s * row, dv = dvo + s * row;
                        float dp = d0.mul(FloatVector.fromArray(S, q, v))
                                        .add(d1.mul(FloatVector.fromArray(S, q, v + L)))
                                        .add(d2.mul(FloatVector.fromArray(S, q, v + 2 * L)))
                                        .add(d3.mul(FloatVector.fromArray(S, q, v + 3 * L)))
                                        .reduceLanes(VectorOperators.ADD)
                                * m;
                        FloatVector p = FloatVector.broadcast(S, a[ao + s] * m);
                        d0.fma(p, FloatVector.fromArray(S, dq, dv)).intoArray(dq, dv);
                        d1.fma(p, FloatVector.fromArray(S, dq, dv + L)).intoArray(dq, dv + L);
                        d2.fma(p, FloatVector.fromArray(S, dq, dv + 2 * L)).intoArray(dq, dv + 2 * L);
                        d3.fma(p, FloatVector.fromArray(S, dq, dv + 3 * L)).intoArray(dq, dv + 3 * L);
                        datt[dao + s] = dp;
                        sum += dp * a[ao + s];
                    }
                    // dS = P ⊙ (dP - Σ P·dP) · scale; dq = dS · k (in registers); dk += dS ⊗ q
                    FloatVector r0 = FloatVector.fromArray(S, q, qo), r1 = FloatVector.fromArray(S, q, qo + L);
                    FloatVector r2 = FloatVector.fromArray(S, q, qo + 2 * L),
                            r3 = FloatVector.fromArray(S, q, qo + 3 * L);
                    FloatVector g0 = FloatVector.zero(S), g1 = g0, g2 = g0, g3 = g0;
                    for (int s = 0; s < len; s++) {
                        float ds = a[ao + s] * (datt[dao + s] - sum) * scale;
                        FloatVector vds = FloatVector.broadcast(S, ds);
                        int k = ko + s * row, dk = dko + s * row;
                        g0 = FloatVector.fromArray(S, q, k).fma(vds, g0);
                        g1 = FloatVector.fromArray(S, q, k + L).fma(vds, g1);
                        g2 = FloatVector.fromArray(S, q, k + 2 * L).fma(vds, g2);
                        g3 = FloatVector.fromArray(S, q, k + 3 * L).fma(vds, g3);
                        r0.fma(vds, FloatVector.fromArray(S, dq, dk)).intoArray(dq, dk);
                        r1.fma(vds, FloatVector.fromArray(S, dq, dk + L)).intoArray(dq, dk + L);
                        r2.fma(vds, FloatVector.fromArray(S, dq, dk + 2 * L)).intoArray(dq, dk + 2 * L);
                        r3.fma(vds, FloatVector.fromArray(S, dq, dk + 3 * L)).intoArray(dq, dk + 3 * L);
                    }
                    int dqo = dqkvOff + t * row + h * D;
                    g0.intoArray(dq, dqo);
                    g1.intoArray(dq, dqo + L);
                    g2.intoArray(dq, dqo + 2 * L);
                    g3.intoArray(dq, dqo + 3 * L);
                }
            }
        });
    }
}
