package slim.nn.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import slim.nn.Slice;

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

    static void forward(Slice out, Slice att, Slice qkv, Slice dropMask, AttentionShape shape) {
        AttentionHeads heads = shape.heads();
        int T = shape.T(), q0 = shape.q0(), Tq = shape.Tq(), H = heads.H(), D = heads.D();
        int row = heads.row(), group = heads.group();
        float scale = heads.scale();
        float[] o = out.data(), a = att.data(), q = qkv.data(), mask = CpuKernels.arrayOf(dropMask);
        int oOff = out.offset(), aOff = att.offset(), qkvOff = qkv.offset(), maskOff = CpuKernels.offsetOf(dropMask);
        Parallel.forEach(H * Tq, 2L * T * D, ht -> {
            int h = ht / Tq, t = q0 + ht % Tq, g = h / group;
            int qo = qkvOff + t * row + h * D;
            int ko = qkvOff + heads.keyColumn(g), vo = qkvOff + heads.valueColumn(g);
            int ao = aOff + (h * T + t) * T, len = shape.keys(t);
            FloatVector r0 = FloatVector.fromArray(S, q, qo), r1 = FloatVector.fromArray(S, q, qo + L);
            FloatVector r2 = FloatVector.fromArray(S, q, qo + 2 * L), r3 = FloatVector.fromArray(S, q, qo + 3 * L);
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < len; s++) {
                int k = ko + s * row;
                float sc = BitExact.sum(r0.mul(FloatVector.fromArray(S, q, k))
                                .add(r1.mul(FloatVector.fromArray(S, q, k + L)))
                                .add(r2.mul(FloatVector.fromArray(S, q, k + 2 * L)))
                                .add(r3.mul(FloatVector.fromArray(S, q, k + 3 * L))))
                        * scale;
                a[ao + s] = sc;
                if (sc > max) max = sc;
            }
            CpuKernels.expNormalize(a, ao, a, ao, len, max);
            Arrays.fill(a, ao + len, ao + T, 0f);
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
            int oo = oOff + t * H * D + h * D;
            y0.intoArray(o, oo);
            y1.intoArray(o, oo + L);
            y2.intoArray(o, oo + 2 * L);
            y3.intoArray(o, oo + 3 * L);
        });
    }

    static void backward(
            Slice dqkv, Slice datt, Slice dout, Slice qkv, Slice att, Slice dropMask, AttentionShape shape) {
        AttentionHeads heads = shape.heads();
        int T = shape.T(), q0 = shape.q0(), Tq = shape.Tq(), H = heads.H(), D = heads.D();
        int row = heads.row(), group = heads.group();
        float scale = heads.scale();
        float[] dq = dqkv.data(), da = datt.data(), d = dout.data(), q = qkv.data(), a = att.data();
        float[] mask = CpuKernels.arrayOf(dropMask);
        int dqkvOff = dqkv.offset(), dattOff = datt.offset(), doutOff = dout.offset(), qkvOff = qkv.offset();
        int aOff = att.offset(), maskOff = CpuKernels.offsetOf(dropMask);
        CpuKernels.perKvHead(dqkv, shape, g -> {
            int ko = qkvOff + heads.keyColumn(g), vo = qkvOff + heads.valueColumn(g);
            int dko = dqkvOff + heads.keyColumn(g), dvo = dqkvOff + heads.valueColumn(g);
            for (int h = g * group; h < (g + 1) * group; h++) {
                for (int t = q0; t < q0 + Tq; t++) {
                    int len = shape.keys(t);
                    int ao = aOff + (h * T + t) * T, dao = dattOff + (h * T + t) * T, mo = maskOff + (h * T + t) * T;
                    int doo = doutOff + t * H * D + h * D, qo = qkvOff + t * row + h * D;
                    FloatVector d0 = FloatVector.fromArray(S, d, doo), d1 = FloatVector.fromArray(S, d, doo + L);
                    FloatVector d2 = FloatVector.fromArray(S, d, doo + 2 * L),
                            d3 = FloatVector.fromArray(S, d, doo + 3 * L);
                    // dP = d · v through the dropout mask; dv += P·mask ⊗ d
                    float sum = 0f;
                    for (int s = 0; s < len; s++) {
                        float m = mask == null ? 1f : mask[mo + s];
                        int v = vo + s * row, dv = dvo + s * row;
                        float dp = BitExact.sum(d0.mul(FloatVector.fromArray(S, q, v))
                                        .add(d1.mul(FloatVector.fromArray(S, q, v + L)))
                                        .add(d2.mul(FloatVector.fromArray(S, q, v + 2 * L)))
                                        .add(d3.mul(FloatVector.fromArray(S, q, v + 3 * L))))
                                * m;
                        FloatVector p = FloatVector.broadcast(S, a[ao + s] * m);
                        d0.fma(p, FloatVector.fromArray(S, dq, dv)).intoArray(dq, dv);
                        d1.fma(p, FloatVector.fromArray(S, dq, dv + L)).intoArray(dq, dv + L);
                        d2.fma(p, FloatVector.fromArray(S, dq, dv + 2 * L)).intoArray(dq, dv + 2 * L);
                        d3.fma(p, FloatVector.fromArray(S, dq, dv + 3 * L)).intoArray(dq, dv + 3 * L);
                        da[dao + s] = dp;
                        sum += dp * a[ao + s];
                    }
                    // dS = P ⊙ (dP - Σ P·dP) · scale; dq = dS · k (in registers); dk += dS ⊗ q
                    FloatVector r0 = FloatVector.fromArray(S, q, qo), r1 = FloatVector.fromArray(S, q, qo + L);
                    FloatVector r2 = FloatVector.fromArray(S, q, qo + 2 * L),
                            r3 = FloatVector.fromArray(S, q, qo + 3 * L);
                    FloatVector g0 = FloatVector.zero(S), g1 = g0, g2 = g0, g3 = g0;
                    for (int s = 0; s < len; s++) {
                        float ds = a[ao + s] * (da[dao + s] - sum) * scale;
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
