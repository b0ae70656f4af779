package slim.nn.kernels;

import java.util.Arrays;
import jdk.incubator.vector.VectorSpecies;
import slim.nn.Slice;

/**
 * Scaled dot-product attention on the CPU for narrow heads, over a fused qkv [T, (H + 2·KV)·D]. Each
 * head's keys and values are first copied transposed ([D, T]), so every inner loop runs along the
 * sequence and vectorises however narrow the head is (stories260K's heads are 8 wide, half an
 * AVX-512 vector: 2.7x faster than dot products along D there). Wide heads keep CpuKernels' loops
 * along D, which win once a head fills two vectors (GPT-2's 64: 3.4 vs 6.9 ms at T = 139).
 */
final class NarrowHeadAttention {
    private static final VectorSpecies<Float> S = Vectors.SPECIES;

    /** Per-thread scratch: transposed k and v, their gradients, and one row of scores. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[5][0]);

    private NarrowHeadAttention() {}

    /** Heads narrower than two vectors run here. */
    static boolean narrow(int D) {
        return D < 2 * S.length();
    }

    private static float[][] scratch(int dt, int T) {
        float[][] s = SCRATCH.get();
        for (int i = 0; i < 4; i++) if (s[i].length < dt) s[i] = new float[dt];
        if (s[4].length < T) s[4] = new float[T];
        return s;
    }

    /** Copies head g's D columns of rows 0..T-1 (stride row) into dst as [D, T]. */
    private static void transpose(float[] src, int off, int row, int T, int D, float[] dst) {
        for (int t = 0; t < T; t++) {
            int base = off + t * row;
            for (int d = 0; d < D; d++) dst[d * T + t] = src[base + d];
        }
    }

    static void forward(Slice out, Slice att, Slice qkv, Slice dropMask, AttentionShape shape) {
        AttentionHeads heads = shape.heads();
        int T = shape.T(), q0 = shape.q0(), Tq = shape.Tq(), H = heads.H(), D = heads.D();
        int row = heads.row(), group = heads.group();
        float scale = heads.scale();
        float[] o = out.data(), a = att.data(), q = qkv.data(), mask = CpuKernels.arrayOf(dropMask);
        int oOff = out.offset(), aOff = att.offset(), qkvOff = qkv.offset(), maskOff = CpuKernels.offsetOf(dropMask);
        Parallel.forEach(H, (long) 2 * Tq * T * D, h -> {
            int g = h / group;
            float[][] s = scratch(D * T, T);
            float[] kt = s[0], vt = s[1];
            transpose(q, qkvOff + heads.keyColumn(g), row, T, D, kt);
            transpose(q, qkvOff + heads.valueColumn(g), row, T, D, vt);
            for (int t = q0; t < q0 + Tq; t++) {
                int len = shape.keys(t);
                int ao = aOff + (h * T + t) * T, qo = qkvOff + t * row + h * D;
                Arrays.fill(a, ao, ao + len, 0f);
                for (int d = 0; d < D; d++) axpy(q[qo + d] * scale, kt, d * T, a, ao, len);
                softmax(a, ao, len);
                Arrays.fill(a, ao + len, ao + T, 0f);
                float[] p = a;
                int po = ao;
                if (mask != null) {
                    p = s[4];
                    po = 0;
                    for (int j = 0; j < len; j++) p[j] = a[ao + j] * mask[maskOff + (h * T + t) * T + j];
                }
                int oo = oOff + t * H * D + h * D;
                for (int d = 0; d < D; d++) o[oo + d] = dot(p, po, vt, d * T, len);
            }
        });
    }

    static void backward(
            Slice dqkv, Slice datt, Slice dout, Slice qkv, Slice att, Slice dropMask, AttentionShape shape) {
        AttentionHeads heads = shape.heads();
        int T = shape.T(), q0 = shape.q0(), Tq = shape.Tq(), H = heads.H(), D = heads.D();
        int row = heads.row(), group = heads.group();
        float scale = heads.scale();
        float[] dq = dqkv.data(), da = datt.data(), dd = dout.data(), q = qkv.data(), a = att.data();
        float[] mask = CpuKernels.arrayOf(dropMask);
        int dqkvOff = dqkv.offset(), dattOff = datt.offset(), doutOff = dout.offset(), qkvOff = qkv.offset();
        int aOff = att.offset(), maskOff = CpuKernels.offsetOf(dropMask);
        CpuKernels.perKvHead(dqkv, shape, g -> {
            float[][] s = scratch(D * T, T);
            float[] kt = s[0], vt = s[1], dkt = s[2], dvt = s[3], p = s[4];
            transpose(q, qkvOff + heads.keyColumn(g), row, T, D, kt);
            transpose(q, qkvOff + heads.valueColumn(g), row, T, D, vt);
            Arrays.fill(dkt, 0, D * T, 0f);
            Arrays.fill(dvt, 0, D * T, 0f);
            for (int h = g * group; h < (g + 1) * group; h++) {
                for (int t = q0; t < q0 + Tq; t++) {
                    int len = shape.keys(t);
                    int ao = aOff + (h * T + t) * T, dao = dattOff + (h * T + t) * T, mo = maskOff + (h * T + t) * T;
                    int doo = doutOff + t * H * D + h * D, qo = qkvOff + t * row + h * D;
                    int dqo = dqkvOff + t * row + h * D;
                    // dP = dd · v (then through the dropout mask); dv += P·mask ⊗ dd
                    Arrays.fill(da, dao, dao + len, 0f);
                    for (int d = 0; d < D; d++) axpy(dd[doo + d], vt, d * T, da, dao, len);
                    for (int j = 0; j < len; j++) p[j] = mask == null ? a[ao + j] : a[ao + j] * mask[mo + j];
                    if (mask != null) for (int j = 0; j < len; j++) da[dao + j] *= mask[mo + j];
                    for (int d = 0; d < D; d++) axpy(dd[doo + d], p, 0, dvt, d * T, len);
                    // dS = P ⊙ (dP - Σ P·dP) · scale
                    float sum = dot(a, ao, da, dao, len);
                    for (int j = 0; j < len; j++) da[dao + j] = a[ao + j] * (da[dao + j] - sum) * scale;
                    // dq = dS · k ; dk += dS ⊗ q
                    for (int d = 0; d < D; d++) {
                        dq[dqo + d] = dot(da, dao, kt, d * T, len);
                        axpy(q[qo + d], da, dao, dkt, d * T, len);
                    }
                }
            }
            int dko = dqkvOff + heads.keyColumn(g), dvo = dqkvOff + heads.valueColumn(g);
            for (int t = 0; t < T; t++) {
                for (int d = 0; d < D; d++) {
                    dq[dko + t * row + d] = dkt[d * T + t];
                    dq[dvo + t * row + d] = dvt[d * T + t];
                }
            }
        });
    }

    /** In-place softmax of x[off, off+n). */
    private static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        CpuKernels.expNormalize(x, off, x, off, n, max);
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return Matmul.dot(a, aOff, b, bOff, n);
    }

    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Matmul.axpy(alpha, x, xOff, y, yOff, n);
    }
}
