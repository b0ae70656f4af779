package slim.nn.kernels;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import slim.nn.Slice;

/** The kernels on the CPU: plain loops, split across cores where a kernel is big enough. */
public final class CpuKernels implements Kernels {
    private static final VectorSpecies<Float> F = Vectors.SPECIES;

    /** The forward products' packed weights while {@link #weightsFixed} holds; null otherwise. */
    private ForwardPacks packs;

    @Override
    public String name() {
        return "cpu (" + Parallel.threads() + " threads, " + F.vectorBitSize() + "-bit vectors)";
    }

    @Override
    public void embeddingForward(Slice out, Slice table, int[] ids, int T, int C, boolean accumulate) {
        float[] o = out.data(), w = table.data();
        int rows = table.length() / C;
        for (int t = 0; t < T; t++) {
            int id = ids[t];
            if (id < 0 || id >= rows) {
                throw new IllegalArgumentException("token id " + id + " at position " + t
                        + " is outside the embedding table of " + rows + " rows");
            }
            int src = table.offset() + id * C, dst = out.offset() + t * C;
            if (accumulate) {
                for (int i = 0; i < C; i++) o[dst + i] += w[src + i];
            } else {
                System.arraycopy(w, src, o, dst, C);
            }
        }
    }

    @Override
    public void embeddingBackward(Slice dtable, Slice dout, int[] ids, int T, int C) {
        float[] dw = dtable.data(), d = dout.data();
        for (int t = 0; t < T; t++) {
            int dst = dtable.offset() + ids[t] * C, src = dout.offset() + t * C;
            for (int i = 0; i < C; i++) dw[dst + i] += d[src + i];
        }
    }

    @Override
    public void layerNormForward(
            Slice out, Slice mean, Slice rstd, Slice inp, Slice w, Slice b, int T, int C, float eps) {
        float[] o = out.data(), x = inp.data(), wd = w.data(), bd = b.data();
        Parallel.forEach(T, 4L * C, t -> {
            int xo = inp.offset() + t * C, oo = out.offset() + t * C;
            float m = 0f;
            for (int i = 0; i < C; i++) m += x[xo + i];
            m /= C;
            float v = 0f;
            for (int i = 0; i < C; i++) {
                float dx = x[xo + i] - m;
                v += dx * dx;
            }
            float s = (float) (1.0 / Math.sqrt(v / C + eps));
            for (int i = 0; i < C; i++) {
                o[oo + i] = (x[xo + i] - m) * s * wd[w.offset() + i] + bd[b.offset() + i];
            }
            mean.set(t, m);
            rstd.set(t, s);
        });
    }

    @Override
    public void layerNormBackward(
            Slice dinp, Slice dw, Slice db, Slice dout, Slice inp, Slice w, Slice mean, Slice rstd, int T, int C) {
        float[] dx = dinp.data(), d = dout.data(), x = inp.data(), wd = w.data();
        Parallel.forEach(T, 6L * C, t -> {
            int xo = inp.offset() + t * C, dOff = dout.offset() + t * C, dxo = dinp.offset() + t * C;
            float m = mean.get(t), s = rstd.get(t);
            float dnormMean = 0f, dnormNormMean = 0f;
            for (int i = 0; i < C; i++) {
                float norm = (x[xo + i] - m) * s;
                float dnorm = wd[w.offset() + i] * d[dOff + i];
                dnormMean += dnorm;
                dnormNormMean += dnorm * norm;
            }
            dnormMean /= C;
            dnormNormMean /= C;
            for (int i = 0; i < C; i++) {
                float norm = (x[xo + i] - m) * s;
                float dnorm = wd[w.offset() + i] * d[dOff + i];
                dx[dxo + i] += (dnorm - dnormMean - norm * dnormNormMean) * s;
            }
        });
        // Weight and bias gradients sum over rows: split by columns so no two threads share one.
        float[] gw = dw.data(), gb = db.data();
        Parallel.forEach(C, 3L * T, i -> {
            float sw = 0f, sb = 0f;
            for (int t = 0; t < T; t++) {
                float dv = d[dout.offset() + t * C + i];
                sw += (x[inp.offset() + t * C + i] - mean.get(t)) * rstd.get(t) * dv;
                sb += dv;
            }
            gw[dw.offset() + i] += sw;
            gb[db.offset() + i] += sb;
        });
    }

    @Override
    public void rmsNormForward(Slice out, Slice rstd, Slice inp, Slice w, int T, int C, float eps) {
        float[] o = out.data(), x = inp.data(), wd = w.data();
        Parallel.forEach(T, 3L * C, t -> {
            int xo = inp.offset() + t * C, oo = out.offset() + t * C;
            float ss = 0f;
            for (int i = 0; i < C; i++) ss += x[xo + i] * x[xo + i];
            float s = (float) (1.0 / Math.sqrt(ss / C + eps));
            for (int i = 0; i < C; i++) o[oo + i] = x[xo + i] * s * wd[w.offset() + i];
            rstd.set(t, s);
        });
    }

    @Override
    public void rmsNormBackward(Slice dinp, Slice dw, Slice dout, Slice inp, Slice w, Slice rstd, int T, int C) {
        float[] dx = dinp.data(), d = dout.data(), x = inp.data(), wd = w.data();
        Parallel.forEach(T, 5L * C, t -> {
            int xo = inp.offset() + t * C, dOff = dout.offset() + t * C, dxo = dinp.offset() + t * C;
            float s = rstd.get(t);
            float dnormNormMean = 0f;
            for (int i = 0; i < C; i++) dnormNormMean += wd[w.offset() + i] * d[dOff + i] * x[xo + i] * s;
            dnormNormMean /= C;
            for (int i = 0; i < C; i++) {
                float norm = x[xo + i] * s;
                dx[dxo + i] += (wd[w.offset() + i] * d[dOff + i] - norm * dnormNormMean) * s;
            }
        });
        float[] gw = dw.data();
        Parallel.forEach(C, 2L * T, i -> {
            float sw = 0f;
            for (int t = 0; t < T; t++) sw += x[inp.offset() + t * C + i] * rstd.get(t) * d[dout.offset() + t * C + i];
            gw[dw.offset() + i] += sw;
        });
    }

    /** Keeps the forward products' packed weights until the scope closes, up to half the heap free now. */
    @Override
    public Fixed weightsFixed() {
        ForwardPacks before = packs;
        packs = new ForwardPacks(ForwardPacks.halfTheFreeHeap());
        return () -> packs = before;
    }

    @Override
    public void matmulForward(Slice out, Slice inp, Slice w, Slice bias, int T, int C, int OC) {
        Matmul.forward(out, inp, w, bias, T, C, OC, packs);
    }

    @Override
    public void matmulBackward(
            Slice dinp, Slice dw, Slice db, Slice dout, Slice inp, Slice w, int T, int C, int OC, boolean accumulate) {
        // Matmul's products add onto dinp; a pass of zeros first costs the CPU little beside them.
        if (dinp != null && !accumulate) dinp.fill(0f, T * C);
        Matmul.backward(dinp, dw, db, dout, inp, w, T, C, OC);
    }

    @Override
    public void attentionForward(Slice out, Slice att, Slice qkv, Slice dropMask, AttentionShape shape) {
        int D = shape.heads().D();
        if (NarrowHeadAttention.narrow(D)) NarrowHeadAttention.forward(out, att, qkv, dropMask, shape);
        else if (FourVectorAttention.fits(D)) FourVectorAttention.forward(out, att, qkv, dropMask, shape);
        else attentionAlongD(out, att, qkv, dropMask, shape);
    }

    /** Attention for the head widths neither helper takes: dot products and axpys along D. */
    private static void attentionAlongD(Slice out, Slice att, Slice qkv, Slice dropMask, AttentionShape shape) {
        AttentionHeads heads = shape.heads();
        int T = shape.T(), q0 = shape.q0(), Tq = shape.Tq(), H = heads.H(), D = heads.D();
        int row = heads.row(), group = heads.group();
        float scale = heads.scale();
        float[] q = qkv.data(), a = att.data(), o = out.data(), mask = arrayOf(dropMask);
        int maskOff = offsetOf(dropMask);
        Parallel.forEach(H * Tq, 2L * T * D, ht -> {
            int h = ht / Tq, t = q0 + ht % Tq, g = h / group;
            int qo = qkv.offset() + t * row + h * D;
            int ko = qkv.offset() + heads.keyColumn(g), vo = qkv.offset() + heads.valueColumn(g);
            int ao = att.offset() + (h * T + t) * T;
            int len = shape.keys(t);
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < len; s++) {
                float sc = Matmul.dot(q, qo, q, ko + s * row, D) * scale;
                a[ao + s] = sc;
                if (sc > max) max = sc;
            }
            expNormalize(a, ao, a, ao, len, max);
            for (int s = len; s < T; s++) a[ao + s] = 0f;
            int oo = out.offset() + t * H * D + h * D;
            for (int i = 0; i < D; i++) o[oo + i] = 0f;
            for (int s = 0; s < len; s++) {
                float p = a[ao + s];
                if (mask != null) p *= mask[maskOff + (h * T + t) * T + s];
                Matmul.axpy(p, q, vo + s * row, o, oo, D);
            }
        });
    }

    /** The array behind a nullable slice (null for none). */
    static float[] arrayOf(Slice s) {
        return s == null ? null : s.data();
    }

    /** The offset of a nullable slice (0 for none). */
    static int offsetOf(Slice s) {
        return s == null ? 0 : s.offset();
    }

    /**
     * dst[dstOff, +n) = softmax of src[srcOff, +n) given its max: exp(src - max) in vectors ({@link BitExact}, the
     * same bits compiled or not), then scaled to sum to 1; returns the sum of the exponentials. src may be dst.
     */
    static float expNormalize(float[] src, int srcOff, float[] dst, int dstOff, int n, float max) {
        int bound = F.loopBound(n), s = 0;
        FloatVector vsum = FloatVector.zero(F);
        for (; s < bound; s += F.length()) {
            FloatVector e =
                    BitExact.exp(FloatVector.fromArray(F, src, srcOff + s).sub(max));
            e.intoArray(dst, dstOff + s);
            vsum = vsum.add(e);
        }
        float sum = BitExact.sum(vsum);
        for (; s < n; s++) {
            float e = BitExact.exp(src[srcOff + s] - max);
            dst[dstOff + s] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (s = 0; s < bound; s += F.length())
            FloatVector.fromArray(F, dst, dstOff + s).mul(inv).intoArray(dst, dstOff + s);
        for (; s < n; s++) dst[dstOff + s] *= inv;
        return sum;
    }

    @Override
    public void attentionBackward(
            Slice dqkv, Slice datt, Slice dout, Slice qkv, Slice att, Slice dropMask, AttentionShape shape) {
        int D = shape.heads().D();
        if (NarrowHeadAttention.narrow(D)) {
            NarrowHeadAttention.backward(dqkv, datt, dout, qkv, att, dropMask, shape);
        } else if (FourVectorAttention.fits(D)) {
            FourVectorAttention.backward(dqkv, datt, dout, qkv, att, dropMask, shape);
        } else {
            attentionBackwardAlongD(dqkv, datt, dout, qkv, att, dropMask, shape);
        }
    }

    private static void attentionBackwardAlongD(
            Slice dqkv, Slice datt, Slice dout, Slice qkv, Slice att, Slice dropMask, AttentionShape shape) {
        AttentionHeads heads = shape.heads();
        int T = shape.T(), q0 = shape.q0(), Tq = shape.Tq(), H = heads.H(), D = heads.D();
        int row = heads.row(), group = heads.group();
        float scale = heads.scale();
        float[] q = qkv.data(), a = att.data(), dq = dqkv.data(), dd = dout.data(), da = datt.data();
        float[] mask = arrayOf(dropMask);
        int maskOff = offsetOf(dropMask);
        perKvHead(dqkv, shape, g -> {
            int ko = qkv.offset() + heads.keyColumn(g), vo = qkv.offset() + heads.valueColumn(g);
            int dko = dqkv.offset() + heads.keyColumn(g), dvo = dqkv.offset() + heads.valueColumn(g);
            for (int h = g * group; h < (g + 1) * group; h++) {
                for (int t = q0; t < q0 + Tq; t++) {
                    int len = shape.keys(t);
                    int ao = att.offset() + (h * T + t) * T, dao = datt.offset() + (h * T + t) * T;
                    int doo = dout.offset() + t * H * D + h * D;
                    int qo = qkv.offset() + t * row + h * D, dqo = dqkv.offset() + t * row + h * D;
                    float dot = 0f;
                    for (int s = 0; s < len; s++) {
                        float m = mask == null ? 1f : mask[maskOff + (h * T + t) * T + s];
                        float dp = Matmul.dot(dd, doo, q, vo + s * row, D) * m;
                        Matmul.axpy(a[ao + s] * m, dd, doo, dq, dvo + s * row, D);
                        da[dao + s] = dp;
                        dot += dp * a[ao + s];
                    }
                    for (int s = 0; s < len; s++) {
                        float ds = a[ao + s] * (da[dao + s] - dot) * scale;
                        Matmul.axpy(ds, q, ko + s * row, dq, dqo, D);
                        Matmul.axpy(ds, q, qo, dq, dko + s * row, D);
                    }
                }
            }
        });
    }

    /**
     * How every attention backward (general, narrow heads, four-vector heads) starts: dqkv [T, (H + 2·KV)·D]
     * is zeroed, since its k and v rows sum over the query heads that share them, and the work runs as
     * one task per kv head, so that no two tasks add to the same k or v.
     */
    static void perKvHead(Slice dqkv, AttentionShape shape, IntConsumer kvHead) {
        AttentionHeads heads = shape.heads();
        int T = shape.T(), KV = heads.KV();
        dqkv.fill(0f, T * heads.row());
        Parallel.forEach(KV, 4L * heads.group() * shape.Tq() * T * heads.D() / (heads.causal() ? 2 : 1), kvHead);
    }

    @Override
    public void ropeForward(Slice qkv, Slice cos, Slice sin, int T, int H, int KV, int D) {
        rotate(qkv, cos, sin, T, H, KV, D, 1f);
    }

    @Override
    public void ropeBackward(Slice dqkv, Slice cos, Slice sin, int T, int H, int KV, int D) {
        rotate(dqkv, cos, sin, T, H, KV, D, -1f);
    }

    /** Rotate-half RoPE on the q and k heads of each row; direction -1 applies the inverse rotation. */
    private static void rotate(Slice qkv, Slice cos, Slice sin, int T, int H, int KV, int D, float direction) {
        int row = (H + 2 * KV) * D, half = D / 2;
        float[] x = qkv.data();
        Parallel.forEach(T, 6L * (H + KV) * D, t -> {
            for (int head = 0; head < H + KV; head++) {
                int base = qkv.offset() + t * row + head * D;
                for (int i = 0; i < half; i++) {
                    float c = cos.get(t * half + i), s = direction * sin.get(t * half + i);
                    float x1 = x[base + i], x2 = x[base + i + half];
                    x[base + i] = x1 * c - x2 * s;
                    x[base + i + half] = x2 * c + x1 * s;
                }
            }
        });
    }

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float INV_SQRT_2 = (float) (1.0 / Math.sqrt(2.0));
    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));

    @Override
    public void activationForward(Nonlinearity act, Slice out, Slice inp, int N) {
        float[] o = out.data(), x = inp.data();
        int oo = out.offset(), xo = inp.offset();
        if (act == Nonlinearity.GELU_TANH) {
            Parallel.forRanges(N, 20, (from, to) -> geluTanh(o, oo, x, xo, from, to));
            return;
        }
        Parallel.forEach(N, 20, i -> {
            float v = x[xo + i];
            o[oo + i] = switch (act) {
                case RELU -> Math.max(v, 0f);
                case TANH -> BitExact.tanh(v);
                case GELU_TANH -> 0.5f * v * (1f + BitExact.tanh(SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
                case GELU_ERF -> 0.5f * v * (1f + erf(v * INV_SQRT_2));
            };
        });
    }

    @Override
    public void activationBackward(Nonlinearity act, Slice dinp, Slice inp, Slice dout, int N) {
        float[] dx = dinp.data(), x = inp.data(), d = dout.data();
        int dxo = dinp.offset(), xo = inp.offset(), dOff = dout.offset();
        if (act == Nonlinearity.GELU_TANH) {
            Parallel.forRanges(N, 20, (from, to) -> geluTanhBackward(dx, dxo, x, xo, d, dOff, from, to));
            return;
        }
        Parallel.forEach(N, 20, i -> {
            float v = x[xo + i];
            float grad = switch (act) {
                case RELU -> v > 0f ? 1f : 0f;
                case TANH -> {
                    float tanh = BitExact.tanh(v);
                    yield 1f - tanh * tanh;
                }
                case GELU_TANH -> {
                    float cube = 0.044715f * v * v * v;
                    float tanh = BitExact.tanh(SQRT_2_OVER_PI * (v + cube));
                    float sech2 = 1f - tanh * tanh;
                    yield 0.5f * (1f + tanh) + 0.5f * v * sech2 * SQRT_2_OVER_PI * (1f + 3f * 0.044715f * v * v);
                }
                case GELU_ERF -> 0.5f * (1f + erf(v * INV_SQRT_2)) + v * INV_SQRT_2PI * (float) Math.exp(-0.5f * v * v);
            };
            dx[dxo + i] += grad * d[dOff + i];
        });
    }

    /**
     * GPT-2's GELU over [from, to) in vectors, the same operations as the tail ({@link BitExact}'s tanh), so an
     * element gets the same bits whichever chunk of the split, and so whether vectors or the tail, computes it.
     */
    private static void geluTanh(float[] o, int oo, float[] x, int xo, int from, int to) {
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector inner = v.mul(v).mul(v).mul(0.044715f).add(v).mul(SQRT_2_OVER_PI);
            v.mul(0.5f).mul(BitExact.tanh(inner).add(1f)).intoArray(o, oo + i);
        }
        for (; i < to; i++) {
            float v = x[xo + i];
            o[oo + i] = v * 0.5f * (BitExact.tanh((v * v * v * 0.044715f + v) * SQRT_2_OVER_PI) + 1f);
        }
    }

    /** dinp += gelu'(inp) · dout over [from, to), in vectors as geluTanh, the tail in the vectors' operations. */
    private static void geluTanhBackward(
            float[] dx, int dxo, float[] x, int xo, float[] d, int dOff, int from, int to) {
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i), v2 = v.mul(v);
            FloatVector tanh = BitExact.tanh(v2.mul(v).mul(0.044715f).add(v).mul(SQRT_2_OVER_PI));
            FloatVector sech2 = tanh.mul(tanh).neg().add(1f);
            FloatVector grad = tanh.add(1f)
                    .mul(0.5f)
                    .add(v.mul(0.5f)
                            .mul(sech2)
                            .mul(SQRT_2_OVER_PI)
                            .mul(v2.mul(3f * 0.044715f).add(1f)));
            grad.fma(FloatVector.fromArray(F, d, dOff + i), FloatVector.fromArray(F, dx, dxo + i))
                    .intoArray(dx, dxo + i);
        }
        for (; i < to; i++) {
            float v = x[xo + i], v2 = v * v;
            float tanh = BitExact.tanh((v2 * v * 0.044715f + v) * SQRT_2_OVER_PI);
            float sech2 = 1f - tanh * tanh;
            float grad = (tanh + 1f) * 0.5f + v * 0.5f * sech2 * SQRT_2_OVER_PI * (v2 * (3f * 0.044715f) + 1f);
            dx[dxo + i] = Math.fma(grad, d[dOff + i], dx[dxo + i]);
        }
    }

    /** erf from the Chebyshev fit of erfc (fractional error below 1.2e-7): ample for float; Java has no erf. */
    static float erf(float xf) {
        double x = Math.abs(xf);
        double t = 1.0 / (1.0 + 0.5 * x);
        // Horner's rule from the innermost coefficient: the same operations, in the same order, as the nested fit
        double p = 0.17087277;
        p = -0.82215223 + t * p;
        p = 1.48851587 + t * p;
        p = -1.13520398 + t * p;
        p = 0.27886807 + t * p;
        p = -0.18628806 + t * p;
        p = 0.09678418 + t * p;
        p = 0.37409196 + t * p;
        p = 1.00002368 + t * p;
        double y = t * Math.exp(-x * x - 1.26551223 + t * p);
        double erf = 1.0 - y;
        return (float) (xf >= 0 ? erf : -erf);
    }

    @Override
    public void swigluForward(Slice out, Slice gateUp, int T, int I) {
        float[] o = out.data(), g = gateUp.data();
        Parallel.forEach(T, 10L * I, t -> {
            int go = gateUp.offset() + t * 2 * I, oo = out.offset() + t * I;
            for (int i = 0; i < I; i++) {
                float gate = g[go + i];
                o[oo + i] = gate / (1f + (float) Math.exp(-gate)) * g[go + I + i];
            }
        });
    }

    @Override
    public void swigluBackward(Slice dgateUp, Slice gateUp, Slice dout, int T, int I) {
        float[] dg = dgateUp.data(), g = gateUp.data(), d = dout.data();
        Parallel.forEach(T, 12L * I, t -> {
            int go = gateUp.offset() + t * 2 * I, dgo = dgateUp.offset() + t * 2 * I, dOff = dout.offset() + t * I;
            for (int i = 0; i < I; i++) {
                float gate = g[go + i], up = g[go + I + i];
                float sig = 1f / (1f + (float) Math.exp(-gate));
                float silu = gate * sig;
                dg[dgo + i] = d[dOff + i] * up * sig * (1f + gate * (1f - sig));
                dg[dgo + I + i] = d[dOff + i] * silu;
            }
        });
    }

    @Override
    public void add(Slice out, Slice a, Slice b, int N) {
        float[] o = out.data(), x = a.data(), y = b.data();
        int oo = out.offset(), ao = a.offset(), bo = b.offset();
        for (int i = 0; i < N; i++) o[oo + i] = x[ao + i] + y[bo + i];
    }

    @Override
    public void multiply(Slice x, Slice y, int N) {
        float[] a = x.data(), b = y.data();
        int ao = x.offset(), bo = y.offset();
        for (int i = 0; i < N; i++) a[ao + i] *= b[bo + i];
    }

    @Override
    public void dropoutMask(Slice mask, int N, float p, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float keep = 1f / (1f - p);
        float[] m = mask.data();
        for (int i = 0; i < N; i++) m[mask.offset() + i] = random.nextDouble() < p ? 0f : keep;
    }

    @Override
    public void zero(Slice x, int N) {
        x.fill(0f, N);
    }

    @Override
    public void copy(Slice dst, Slice src, int N) {
        System.arraycopy(src.data(), src.offset(), dst.data(), dst.offset(), N);
    }

    @Override
    public void gatherRows(Slice dst, Slice src, int[] rows, int n, int C) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(src.data(), src.offset() + rows[i] * C, dst.data(), dst.offset() + i * C, C);
        }
    }

    @Override
    public void scatterAddRows(Slice dst, Slice src, int[] rows, int n, int C) {
        for (int i = 0; i < n; i++) {
            Matmul.axpy(1f, src.data(), src.offset() + i * C, dst.data(), dst.offset() + rows[i] * C, C);
        }
    }

    @Override
    public void meanRowsForward(Slice out, Slice inp, int T, int C) {
        out.fill(0f, C);
        for (int t = 0; t < T; t++) Matmul.axpy(1f / T, inp.data(), inp.offset() + t * C, out.data(), out.offset(), C);
    }

    @Override
    public void meanRowsBackward(Slice dinp, Slice dout, int T, int C) {
        for (int t = 0; t < T; t++)
            Matmul.axpy(1f / T, dout.data(), dout.offset(), dinp.data(), dinp.offset() + t * C, C);
    }

    @Override
    public void crossEntropyForward(
            Slice losses, Slice probs, Slice logits, int[] targets, int[] candidates, int n, int V) {
        float[] p = probs.data(), z = logits.data();
        // Rows are independent; a causal-LM step has T of them over the whole vocabulary (16 M logits at T = 317).
        Parallel.forEach(n, 4L * (candidates == null ? V : candidates.length), r -> {
            int zo = logits.offset() + r * V, po = probs.offset() + r * V;
            losses.set(r, (float)
                    (candidates == null
                            ? softmaxRow(p, po, z, zo, targets[r], V)
                            : softmaxCandidates(p, po, z, zo, targets[r], candidates, V)));
        });
    }

    /** probs = softmax(z) over one full row in vectors; returns -log probs[target]. */
    private static double softmaxRow(float[] p, int po, float[] z, int zo, int target, int V) {
        int bound = F.loopBound(V), j = 0;
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; j < bound; j += F.length()) vmax = vmax.max(FloatVector.fromArray(F, z, zo + j));
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; j < V; j++) max = Math.max(max, z[zo + j]);
        double sum = expNormalize(z, zo, p, po, V, max);
        return -(z[zo + target] - max - Math.log(sum));
    }

    /** Softmax restricted to the candidate columns (a handful of label tokens); every other prob is 0. */
    private static double softmaxCandidates(float[] p, int po, float[] z, int zo, int target, int[] candidates, int V) {
        float max = Float.NEGATIVE_INFINITY;
        for (int c : candidates) max = Math.max(max, z[zo + c]);
        double sum = 0;
        for (int c : candidates) sum += Math.exp(z[zo + c] - max);
        Arrays.fill(p, po, po + V, 0f);
        for (int c : candidates) p[po + c] = (float) (Math.exp(z[zo + c] - max) / sum);
        return -(z[zo + target] - max - Math.log(sum));
    }

    @Override
    public void crossEntropyBackward(Slice dlogits, Slice probs, int[] targets, int[] candidates, int n, int V) {
        float[] d = dlogits.data(), p = probs.data();
        float invN = 1f / n;
        Parallel.forEach(n, V, r -> {
            int dOff = dlogits.offset() + r * V, po = probs.offset() + r * V;
            int j = 0;
            for (int bound = F.loopBound(V); j < bound; j += F.length()) {
                FloatVector.fromArray(F, p, po + j).mul(invN).intoArray(d, dOff + j);
            }
            for (; j < V; j++) d[dOff + j] = p[po + j] * invN;
            d[dOff + targets[r]] -= invN;
        });
    }

    @Override
    public void adamw(Slice params, Slice grads, Slice m, Slice v, int N, AdamWSettings settings, int step) {
        float[] g = grads.data();
        int go = grads.offset();
        AdamWUpdate update = new AdamWUpdate(params, m, v, settings, step);
        int chunk = 1 << 14;
        FloatVector zero = FloatVector.zero(F);
        Parallel.forEach((N + chunk - 1) / chunk, 8L * chunk, c -> {
            int i = c * chunk, end = Math.min(N, i + chunk);
            for (int bound = i + F.loopBound(end - i); i < bound; i += F.length()) {
                FloatVector grad = FloatVector.fromArray(F, g, go + i);
                zero.intoArray(g, go + i);
                update.vector(grad, i);
            }
            for (; i < end; i++) {
                float grad = g[go + i];
                g[go + i] = 0f;
                update.scalar(grad, i);
            }
        });
    }

    /**
     * Row by row: each row's gradient is dout[r] · inp, plus what grads holds in the stored rows (added after the
     * product is rounded, as backward's head-then-embedding order added them), then the update as {@link #adamw}.
     */
    @Override
    public void adamwOuterProduct(
            Slice params,
            Slice grads,
            Slice m,
            Slice v,
            Slice dout,
            Slice inp,
            boolean[] stored,
            int R,
            int C,
            AdamWSettings settings,
            int step) {
        float[] g = grads.data(), d = dout.data(), x = inp.data();
        int go = grads.offset(), xo = inp.offset();
        AdamWUpdate update = new AdamWUpdate(params, m, v, settings, step);
        FloatVector zero = FloatVector.zero(F);
        Parallel.forEach(R, 8L * C, r -> {
            float coef = d[dout.offset() + r];
            boolean own = stored == null || stored[r];
            int row = r * C, i = 0;
            for (int bound = F.loopBound(C); i < bound; i += F.length()) {
                FloatVector grad = FloatVector.fromArray(F, x, xo + i).mul(coef);
                if (own) {
                    grad = FloatVector.fromArray(F, g, go + row + i).add(grad);
                    zero.intoArray(g, go + row + i);
                }
                update.vector(grad, row + i);
            }
            for (; i < C; i++) {
                float grad = coef * x[xo + i];
                if (own) {
                    grad = g[go + row + i] + grad;
                    g[go + row + i] = 0f;
                }
                update.scalar(grad, row + i);
            }
        });
    }

    /**
     * AdamW's update of parameter i (an index from the start of params, m and v) from its gradient. The vector and the
     * scalar path do the same operations in the same order (no fused multiply-add), so a step gives identical bits
     * whichever path a parameter takes; vectors cut the time per parameter to what memory traffic allows.
     */
    private static final class AdamWUpdate {
        private final float[] p, m, v;
        private final int po, mo, vo;
        private final float beta1, beta2, keep1, keep2, eps, stepSize, decay, correction2Sqrt;

        AdamWUpdate(Slice params, Slice m, Slice v, AdamWSettings settings, int step) {
            this.p = params.data();
            this.m = m.data();
            this.v = v.data();
            this.po = params.offset();
            this.mo = m.offset();
            this.vo = v.offset();
            this.beta1 = settings.beta1();
            this.beta2 = settings.beta2();
            this.keep1 = 1 - beta1;
            this.keep2 = 1 - beta2;
            this.eps = settings.eps();
            this.stepSize = settings.lr() / (float) (1 - Math.pow(beta1, step));
            this.decay = 1f - settings.lr() * settings.weightDecay();
            this.correction2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        }

        void vector(FloatVector grad, int i) {
            FloatVector mi = FloatVector.fromArray(F, m, mo + i).mul(beta1).add(grad.mul(keep1));
            FloatVector vi = FloatVector.fromArray(F, v, vo + i)
                    .mul(beta2)
                    .add(grad.mul(keep2).mul(grad));
            mi.intoArray(m, mo + i);
            vi.intoArray(v, vo + i);
            FloatVector denom = vi.sqrt().div(correction2Sqrt).add(eps);
            FloatVector.fromArray(F, p, po + i)
                    .mul(decay)
                    .sub(mi.mul(stepSize).div(denom))
                    .intoArray(p, po + i);
        }

        void scalar(float grad, int i) {
            float mi = beta1 * m[mo + i] + keep1 * grad;
            float vi = beta2 * v[vo + i] + keep2 * grad * grad;
            m[mo + i] = mi;
            v[vo + i] = vi;
            p[po + i] = p[po + i] * decay - stepSize * mi / ((float) Math.sqrt(vi) / correction2Sqrt + eps);
        }
    }
}
