package slim.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.vectors.Float8;

/**
 * The kernels as TornadoVM compiles them to the device. Every kernel has one signature: the five arenas
 * (DevicePlan.Bank: activations, parameters, gradients, AdamW's two moments; every model buffer, at the
 * offsets the call passes), an auxiliary buffer (the staging buffer of
 * uploads and downloads; unused by the others), the call's integer and float
 * parameters, and where they start (0). Each kernel names its buffers as local aliases of the
 * arena its role names (a weight: weights; a weight gradient: grads): a task must not be given one object twice, or
 * TornadoVM's graph compiler never finishes.
 *
 * <p>ints[i0..] holds the sizes, offsets and index lists. Sizes are
 * data, not constants, so one compiled kernel serves every sequence length. Each work-item computes
 * one output element or one row, writing nothing another work-item writes, so no kernel needs
 * atomics; the reductions over rows (weight gradients) run one work-item per column.
 */
final class DeviceKernels {
    private DeviceKernels() {}

    /** The arenas by number, as DevicePlan.Bank orders them. */
    static final int MEM = 0, WEIGHTS = 1, GRADS = 2, MOMENT1 = 3, MOMENT2 = 4;

    private static final float SQRT_2_OVER_PI = 0.7978845608f;
    private static final float INV_SQRT_2 = 0.70710678f;
    private static final float INV_SQRT_2PI = 0.39894228f;

    /** ints: T, C, outOff, tableOff, accumulate, ids[T]. out[t] (+)= table[ids[t]]. */
    static void embeddingForward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, table = weights;
        int T = ints[i0], C = ints[i0 + 1];
        int gid = ctx.globalIdx;
        if (gid < T * C) {
            int t = gid / C, i = gid - t * C;
            float v = table[ints[i0 + 3] + ints[i0 + 5 + t] * C + i];
            int o = ints[i0 + 2] + gid;
            out[o] = ints[i0 + 4] != 0 ? out[o] + v : v;
        }
    }

    /** ints: T, C, dtableOff, doutOff, ids[T]; one work-item per column, so repeated ids do not race. */
    static void embeddingBackward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dtable = grads, dout = mem;
        int T = ints[i0], C = ints[i0 + 1];
        int i = ctx.globalIdx;
        if (i < C) {
            for (int t = 0; t < T; t++) {
                int d = ints[i0 + 2] + ints[i0 + 4 + t] * C + i;
                dtable[d] = dtable[d] + dout[ints[i0 + 3] + t * C + i];
            }
        }
    }

    /** ints: T, C, out, mean, rstd, inp, w, b offsets; fl: eps. One work-item per row. */
    static void layerNormForward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, mean = mem, rstd = mem, inp = mem, w = weights, b = weights;
        int T = ints[i0], C = ints[i0 + 1];
        int t = ctx.globalIdx;
        if (t < T) {
            int xo = ints[i0 + 5] + t * C, oo = ints[i0 + 2] + t * C, wo = ints[i0 + 6], bo = ints[i0 + 7];
            float m = 0f;
            for (int i = 0; i < C; i++) m += inp[xo + i];
            m = m / C;
            float v = 0f;
            for (int i = 0; i < C; i++) {
                float dx = inp[xo + i] - m;
                v += dx * dx;
            }
            float s = 1f / TornadoMath.sqrt(v / C + fl[f0]);
            for (int i = 0; i < C; i++) out[oo + i] = (inp[xo + i] - m) * s * w[wo + i] + b[bo + i];
            mean[ints[i0 + 3] + t] = m;
            rstd[ints[i0 + 4] + t] = s;
        }
    }

    /** ints: T, C, dinp, dout, inp, w, mean, rstd offsets. dinp += per row. */
    static void layerNormBackwardInput(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dinp = mem, dout = mem, inp = mem, w = weights, mean = mem, rstd = mem;
        int T = ints[i0], C = ints[i0 + 1];
        int t = ctx.globalIdx;
        if (t < T) {
            int dxo = ints[i0 + 2] + t * C, dOff = ints[i0 + 3] + t * C, xo = ints[i0 + 4] + t * C;
            int wo = ints[i0 + 5];
            float m = mean[ints[i0 + 6] + t], s = rstd[ints[i0 + 7] + t];
            float dnormMean = 0f, dnormNormMean = 0f;
            for (int i = 0; i < C; i++) {
                float dnorm = w[wo + i] * dout[dOff + i];
                dnormMean += dnorm;
                dnormNormMean += dnorm * (inp[xo + i] - m) * s;
            }
            dnormMean = dnormMean / C;
            dnormNormMean = dnormNormMean / C;
            for (int i = 0; i < C; i++) {
                float norm = (inp[xo + i] - m) * s;
                float dnorm = w[wo + i] * dout[dOff + i];
                dinp[dxo + i] += (dnorm - dnormMean - norm * dnormNormMean) * s;
            }
        }
    }

    /** ints: T, C, dw, db, dout, inp, mean, rstd offsets. One work-item per column sums the rows. */
    static void layerNormBackwardWeights(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dw = grads, db = grads, dout = mem, inp = mem, mean = mem, rstd = mem;
        int T = ints[i0], C = ints[i0 + 1];
        int i = ctx.globalIdx;
        if (i < C) {
            int dOff = ints[i0 + 4], xo = ints[i0 + 5], mo = ints[i0 + 6], ro = ints[i0 + 7];
            float sw = 0f, sb = 0f;
            for (int t = 0; t < T; t++) {
                float d = dout[dOff + t * C + i];
                sw += (inp[xo + t * C + i] - mean[mo + t]) * rstd[ro + t] * d;
                sb += d;
            }
            dw[ints[i0 + 2] + i] += sw;
            db[ints[i0 + 3] + i] += sb;
        }
    }

    /** ints: T, C, out, rstd, inp, w offsets; fl: eps. */
    static void rmsNormForward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, rstd = mem, inp = mem, w = weights;
        int T = ints[i0], C = ints[i0 + 1];
        int t = ctx.globalIdx;
        if (t < T) {
            int oo = ints[i0 + 2] + t * C, xo = ints[i0 + 4] + t * C, wo = ints[i0 + 5];
            float ss = 0f;
            for (int i = 0; i < C; i++) ss += inp[xo + i] * inp[xo + i];
            float s = 1f / TornadoMath.sqrt(ss / C + fl[f0]);
            for (int i = 0; i < C; i++) out[oo + i] = inp[xo + i] * s * w[wo + i];
            rstd[ints[i0 + 3] + t] = s;
        }
    }

    /** ints: T, C, dinp, dout, inp, w, rstd offsets. */
    static void rmsNormBackwardInput(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dinp = mem, dout = mem, inp = mem, w = weights, rstd = mem;
        int T = ints[i0], C = ints[i0 + 1];
        int t = ctx.globalIdx;
        if (t < T) {
            int dxo = ints[i0 + 2] + t * C, dOff = ints[i0 + 3] + t * C, xo = ints[i0 + 4] + t * C;
            int wo = ints[i0 + 5];
            float s = rstd[ints[i0 + 6] + t];
            float dnormNormMean = 0f;
            for (int i = 0; i < C; i++) dnormNormMean += w[wo + i] * dout[dOff + i] * inp[xo + i] * s;
            dnormNormMean = dnormNormMean / C;
            for (int i = 0; i < C; i++) {
                dinp[dxo + i] += (w[wo + i] * dout[dOff + i] - inp[xo + i] * s * dnormNormMean) * s;
            }
        }
    }

    /** ints: T, C, dw, dout, inp, rstd offsets. */
    static void rmsNormBackwardWeights(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dw = grads, dout = mem, inp = mem, rstd = mem;
        int T = ints[i0], C = ints[i0 + 1];
        int i = ctx.globalIdx;
        if (i < C) {
            int dOff = ints[i0 + 3], xo = ints[i0 + 4], ro = ints[i0 + 5];
            float sw = 0f;
            for (int t = 0; t < T; t++) sw += inp[xo + t * C + i] * rstd[ro + t] * dout[dOff + t * C + i];
            dw[ints[i0 + 2] + i] += sw;
        }
    }

    /** Work-group edge of the matmul tiles: TILE² work-items each compute one output. */
    static final int TILE = 16;

    /**
     * ints: T, C, OC, out, inp, w, bias offsets, hasBias, tilesOC. out[t, o] = Σ_c inp[t, c]·w[o, c] + bias[o].
     * One work-group of TILE×TILE (flattened to 1-D: PoCL mis-runs 2-D groups) per output tile; each
     * step loads a TILE-wide slab of inp rows and w rows into local memory and every work-item reads
     * it TILE times from there instead of from global memory.
     */
    static void matmulForward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, inp = mem, w = weights, bias = weights;
        int T = ints[i0], C = ints[i0 + 1], OC = ints[i0 + 2];
        int oo = ints[i0 + 3], io = ints[i0 + 4], wo = ints[i0 + 5], bo = ints[i0 + 6];
        int tilesOC = ints[i0 + 8];
        float[] a = ctx.allocateFloatLocalArray(256); // [TILE t][TILE c]
        float[] b = ctx.allocateFloatLocalArray(256); // [TILE o][TILE c]
        int lid = ctx.localIdx, group = ctx.groupIdx;
        int ly = lid / 16, lx = lid - ly * 16;
        int t0 = (group / tilesOC) * 16, o0 = (group - (group / tilesOC) * tilesOC) * 16;
        int t = t0 + ly, o = o0 + lx;
        float acc = 0f;
        for (int c0 = 0; c0 < C; c0 += 16) {
            int c = c0 + lx;
            a[lid] = t < T && c < C ? inp[io + t * C + c] : 0f;
            int wr = o0 + ly;
            b[lid] = wr < OC && c < C ? w[wo + wr * C + c] : 0f;
            ctx.localBarrier();
            for (int k = 0; k < 16; k++) acc += a[ly * 16 + k] * b[lx * 16 + k];
            ctx.localBarrier();
        }
        if (t < T && o < OC) out[oo + t * OC + o] = ints[i0 + 7] != 0 ? acc + bias[bo + o] : acc;
    }

    /** Outputs one work-item of matmulForwardRows, matmulForwardRegisters and matmulBackwardWeights computes along
     * one axis: that many independent sums, so the adds do not wait on each other's latency. */
    static final int BLOCK = 4;

    /** Floats in a Float8: the columns one work-item of the CPU device's gradient products takes (rowsTimesColumns). */
    static final int LANES = 8;

    /**
     * matmulForward's product for a few rows (fewer than TILE: an LM head at one position), where a tile would
     * compute TILE rows to keep one: one work-item per BLOCK neighbouring outputs of one input row (weight rows
     * o..o+3, each read once, straight through), so that the weight is most of the traffic and the four sums run
     * side by side. Each sum is over c in order, as a work-item per output would add. Past OC the last row is
     * summed again and not stored.
     */
    static void matmulForwardRows(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        forwardRows(ctx, mem, weights, ints, i0, false);
    }

    /**
     * matmulForwardRows on a CPU device: each sum in eight lanes (lane l over c ≡ l mod 8, in order), so that PoCL
     * loads and multiplies eight floats at a time (the LM head at one position: 10.7 ms of the GPT-2-small step one
     * float at a time, 6.6 ms so), the lanes added at the end, then the last C mod 8 columns one by one.
     */
    static void matmulForwardRowsEights(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        forwardRows(ctx, mem, weights, ints, i0, true);
    }

    /**
     * The two row kernels' work-item; eights is a constant at each call, so TornadoVM compiles the scalar kernel
     * without the Float8 loop (a GPU gets no vector code).
     */
    private static void forwardRows(
            KernelContext ctx, float[] mem, float[] weights, int[] ints, int i0, boolean eights) {
        float[] out = mem, inp = mem, w = weights, bias = weights;
        int T = ints[i0], C = ints[i0 + 1], OC = ints[i0 + 2];
        int oo = ints[i0 + 3], wo = ints[i0 + 5], bo = ints[i0 + 6], hasBias = ints[i0 + 7];
        int blocks = (OC + 3) / 4, gid = ctx.globalIdx;
        if (gid < T * blocks) {
            int ob = gid / T, t = gid - ob * T, o = ob * 4;
            int io = ints[i0 + 4] + t * C;
            int w0 = wo + o * C, w1 = wo + TornadoMath.min(o + 1, OC - 1) * C;
            int w2 = wo + TornadoMath.min(o + 2, OC - 1) * C, w3 = wo + TornadoMath.min(o + 3, OC - 1) * C;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            int c = 0;
            if (eights) {
                Float8 a0 = splat8(0f), a1 = splat8(0f), a2 = splat8(0f), a3 = splat8(0f);
                for (; c + 8 <= C; c += 8) {
                    Float8 x = load8(inp, io + c);
                    a0 = Float8.add(a0, Float8.mult(x, load8(w, w0 + c)));
                    a1 = Float8.add(a1, Float8.mult(x, load8(w, w1 + c)));
                    a2 = Float8.add(a2, Float8.mult(x, load8(w, w2 + c)));
                    a3 = Float8.add(a3, Float8.mult(x, load8(w, w3 + c)));
                }
                s0 = lanes(a0);
                s1 = lanes(a1);
                s2 = lanes(a2);
                s3 = lanes(a3);
            }
            for (; c < C; c++) {
                float x = inp[io + c];
                s0 += x * w[w0 + c];
                s1 += x * w[w1 + c];
                s2 += x * w[w2 + c];
                s3 += x * w[w3 + c];
            }
            storeBlockRow(out, bias, oo + t * OC + o, bo + o, hasBias, OC - o, s0, s1, s2, s3);
        }
    }

    /**
     * matmulForward on a CPU device (PoCL), where matmulForward's tile, waiting at a barrier every TILE columns,
     * runs its work-items one after another: one work-item per BLOCK x BLOCK outputs (rows t..t+3, outputs
     * o..o+3). ints as matmulForward's (tilesOC unread). Past T or OC the last row is summed again and not stored.
     */
    static void matmulForwardRegisters(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, inp = mem, w = weights, bias = weights;
        int T = ints[i0], C = ints[i0 + 1], OC = ints[i0 + 2];
        int oo = ints[i0 + 3], io = ints[i0 + 4], wo = ints[i0 + 5], bo = ints[i0 + 6], hasBias = ints[i0 + 7];
        int blocksOC = (OC + 3) / 4, gid = ctx.globalIdx;
        if (gid < (T + 3) / 4 * blocksOC) {
            int tb = gid / blocksOC, t = tb * 4, o = (gid - tb * blocksOC) * 4;
            int x0 = io + t * C, x1 = io + TornadoMath.min(t + 1, T - 1) * C;
            int x2 = io + TornadoMath.min(t + 2, T - 1) * C, x3 = io + TornadoMath.min(t + 3, T - 1) * C;
            int w0 = wo + o * C, w1 = wo + TornadoMath.min(o + 1, OC - 1) * C;
            int w2 = wo + TornadoMath.min(o + 2, OC - 1) * C, w3 = wo + TornadoMath.min(o + 3, OC - 1) * C;
            int at = oo + t * OC + o, rows = TornadoMath.min(4, T - t);
            // Sixteen sums, each in eight lanes (lane l over c ≡ l mod 8, in order: PoCL then loads and multiplies
            // eight floats at a time), kept in separate locals so that they stay in registers; the lanes added
            // pairwise at the end, then the last C mod 8 columns one by one. Written out here: as a method it passes
            // TornadoVM's inlining limit (600 nodes).
            Float8 v00 = splat8(0f), v01 = splat8(0f), v02 = splat8(0f), v03 = splat8(0f);
            Float8 v10 = splat8(0f), v11 = splat8(0f), v12 = splat8(0f), v13 = splat8(0f);
            Float8 v20 = splat8(0f), v21 = splat8(0f), v22 = splat8(0f), v23 = splat8(0f);
            Float8 v30 = splat8(0f), v31 = splat8(0f), v32 = splat8(0f), v33 = splat8(0f);
            int c = 0;
            for (; c + 8 <= C; c += 8) {
                Float8 y0 = load8(w, w0 + c), y1 = load8(w, w1 + c), y2 = load8(w, w2 + c), y3 = load8(w, w3 + c);
                Float8 u = load8(inp, x0 + c);
                v00 = Float8.add(v00, Float8.mult(u, y0));
                v01 = Float8.add(v01, Float8.mult(u, y1));
                v02 = Float8.add(v02, Float8.mult(u, y2));
                v03 = Float8.add(v03, Float8.mult(u, y3));
                u = load8(inp, x1 + c);
                v10 = Float8.add(v10, Float8.mult(u, y0));
                v11 = Float8.add(v11, Float8.mult(u, y1));
                v12 = Float8.add(v12, Float8.mult(u, y2));
                v13 = Float8.add(v13, Float8.mult(u, y3));
                u = load8(inp, x2 + c);
                v20 = Float8.add(v20, Float8.mult(u, y0));
                v21 = Float8.add(v21, Float8.mult(u, y1));
                v22 = Float8.add(v22, Float8.mult(u, y2));
                v23 = Float8.add(v23, Float8.mult(u, y3));
                u = load8(inp, x3 + c);
                v30 = Float8.add(v30, Float8.mult(u, y0));
                v31 = Float8.add(v31, Float8.mult(u, y1));
                v32 = Float8.add(v32, Float8.mult(u, y2));
                v33 = Float8.add(v33, Float8.mult(u, y3));
            }
            float s00 = lanes(v00), s01 = lanes(v01), s02 = lanes(v02), s03 = lanes(v03);
            float s10 = lanes(v10), s11 = lanes(v11), s12 = lanes(v12), s13 = lanes(v13);
            float s20 = lanes(v20), s21 = lanes(v21), s22 = lanes(v22), s23 = lanes(v23);
            float s30 = lanes(v30), s31 = lanes(v31), s32 = lanes(v32), s33 = lanes(v33);
            for (; c < C; c++) {
                float y0 = w[w0 + c], y1 = w[w1 + c], y2 = w[w2 + c], y3 = w[w3 + c];
                float u = inp[x0 + c];
                s00 += u * y0;
                s01 += u * y1;
                s02 += u * y2;
                s03 += u * y3;
                u = inp[x1 + c];
                s10 += u * y0;
                s11 += u * y1;
                s12 += u * y2;
                s13 += u * y3;
                u = inp[x2 + c];
                s20 += u * y0;
                s21 += u * y1;
                s22 += u * y2;
                s23 += u * y3;
                u = inp[x3 + c];
                s30 += u * y0;
                s31 += u * y1;
                s32 += u * y2;
                s33 += u * y3;
            }
            storeBlockRow(out, bias, at, bo + o, hasBias, OC - o, s00, s01, s02, s03);
            if (rows > 1) storeBlockRow(out, bias, at + OC, bo + o, hasBias, OC - o, s10, s11, s12, s13);
            if (rows > 2) storeBlockRow(out, bias, at + 2 * OC, bo + o, hasBias, OC - o, s20, s21, s22, s23);
            if (rows > 3) storeBlockRow(out, bias, at + 3 * OC, bo + o, hasBias, OC - o, s30, s31, s32, s33);
        }
    }

    /** Up to four outputs of one row at at (fewer where only left remain), plus the bias at bo where there is one. */
    private static void storeBlockRow(
            float[] mem, float[] bias, int at, int bo, int hasBias, int left, float s0, float s1, float s2, float s3) {
        float[] out = mem;
        out[at] = hasBias != 0 ? s0 + bias[bo] : s0;
        if (left > 1) out[at + 1] = hasBias != 0 ? s1 + bias[bo + 1] : s1;
        if (left > 2) out[at + 2] = hasBias != 0 ? s2 + bias[bo + 2] : s2;
        if (left > 3) out[at + 3] = hasBias != 0 ? s3 + bias[bo + 3] : s3;
    }

    /**
     * ints: T, C, OC, dinp, dout, w offsets, add. dinp[t, c] += Σ_o dout[t, o]·w[o, c] where add is 1, else dinp[t,
     * c] = the sum (Kernels.matmulBackward's accumulate; the input-gradient kernels below take add likewise).
     */
    static void matmulBackwardInput(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dinp = mem, dout = mem, w = weights;
        int T = ints[i0], C = ints[i0 + 1], OC = ints[i0 + 2];
        int gid = ctx.globalIdx;
        if (gid < T * C) {
            int t = gid / C, c = gid - t * C;
            int dOff = ints[i0 + 4] + t * OC, wo = ints[i0 + 5] + c;
            float acc = 0f;
            for (int o = 0; o < OC; o++) acc += dout[dOff + o] * w[wo + o * C];
            put(dinp, ints[i0 + 3] + gid, ints[i0 + 6], acc);
        }
    }

    /** Columns of dinp one work-item of matmulBackwardInputColumns sums. */
    static final int COLUMNS = 8;

    /**
     * matmulBackwardInput for C a multiple of COLUMNS: each work-item sums COLUMNS neighbouring columns, so each
     * weight row it reads gives it COLUMNS floats of one cache line instead of one (the LM head's 50 257 rows were
     * read a line per column: 287 ms of the GPT-2-small step on PoCL). The same sums in the same order.
     */
    static void matmulBackwardInputColumns(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dinp = mem, dout = mem, w = weights;
        int T = ints[i0], C = ints[i0 + 1], OC = ints[i0 + 2];
        int chunks = C / COLUMNS, gid = ctx.globalIdx;
        if (gid < T * chunks) {
            int t = gid / chunks, c = (gid - t * chunks) * COLUMNS;
            int dOff = ints[i0 + 4] + t * OC, wo = ints[i0 + 5] + c;
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
            for (int o = 0; o < OC; o++) {
                float d = dout[dOff + o];
                int at = wo + o * C;
                a0 += d * w[at];
                a1 += d * w[at + 1];
                a2 += d * w[at + 2];
                a3 += d * w[at + 3];
                a4 += d * w[at + 4];
                a5 += d * w[at + 5];
                a6 += d * w[at + 6];
                a7 += d * w[at + 7];
            }
            int out = ints[i0 + 3] + t * C + c, add = ints[i0 + 6];
            put(dinp, out, add, a0);
            put(dinp, out + 1, add, a1);
            put(dinp, out + 2, add, a2);
            put(dinp, out + 3, add, a3);
            put(dinp, out + 4, add, a4);
            put(dinp, out + 5, add, a5);
            put(dinp, out + 6, add, a6);
            put(dinp, out + 7, add, a7);
        }
    }

    /**
     * matmulBackwardInput on a CPU device for TILE rows or more: one work-item per BLOCK rows x LANES columns of dinp
     * (rows t..t+3, columns c..c+7), each row's sums over o in order as one Float8 (rowsTimesColumns); neighbouring
     * work-items take neighbouring columns, so the weight lines one reads the next finds in cache. ints: T, C, OC,
     * dinp, dout, w offsets, add (as matmulBackwardInput's). Past T the last row is summed again and not stored.
     */
    static void matmulBackwardInputRegisters(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dinp = mem, dout = mem, w = weights;
        int T = ints[i0], C = ints[i0 + 1], OC = ints[i0 + 2], io = ints[i0 + 3], dOff = ints[i0 + 4];
        int wo = ints[i0 + 5], blocksC = (C + 7) / 8, gid = ctx.globalIdx;
        if (gid < (T + 3) / 4 * blocksC) {
            int tb = gid / blocksC, t = tb * 4, c = (gid - tb * blocksC) * 8;
            int d0 = dOff + t * OC, d1 = dOff + TornadoMath.min(t + 1, T - 1) * OC;
            int d2 = dOff + TornadoMath.min(t + 2, T - 1) * OC, d3 = dOff + TornadoMath.min(t + 3, T - 1) * OC;
            int at = io + t * C + c, rows = TornadoMath.min(4, T - t);
            // dout's rows t..t+3 along o; w's row o from column c, C floats further for each o.
            rowsTimesColumns(dout, d0, d1, d2, d3, 1, w, wo + c, C, OC, dinp, at, C, rows, C - c, ints[i0 + 6]);
        }
    }

    /**
     * The block the CPU device's gradient products share: out[at + i·rowStep + j] (+)= Σ_{k < K} a[ai + k·aStep]·b[bj
     * + k·bStep + j] for four lines a0..a3 of a (dout's rows for the input gradient, its columns for the weight
     * gradient) and LANES neighbouring columns j of b's rows, k in order, each line's sums one Float8 (PoCL loads,
     * multiplies and adds the eight at a time). Added to out where add, else stored; lines past rows (the last
     * block) are summed from a repeated line and not stored. Where fewer than LANES columns are left, those one by
     * one.
     */
    private static void rowsTimesColumns(
            float[] a,
            int a0,
            int a1,
            int a2,
            int a3,
            int aStep,
            float[] b,
            int b0,
            int bStep,
            int K,
            float[] out,
            int at,
            int rowStep,
            int rows,
            int left,
            int add) {
        if (left >= 8) {
            Float8 s0 = splat8(0f), s1 = splat8(0f), s2 = splat8(0f), s3 = splat8(0f);
            for (int k = 0, ak = 0, bk = b0; k < K; k++, ak += aStep, bk += bStep) {
                Float8 v = load8(b, bk);
                s0 = Float8.add(s0, Float8.mult(splat8(a[a0 + ak]), v));
                s1 = Float8.add(s1, Float8.mult(splat8(a[a1 + ak]), v));
                s2 = Float8.add(s2, Float8.mult(splat8(a[a2 + ak]), v));
                s3 = Float8.add(s3, Float8.mult(splat8(a[a3 + ak]), v));
            }
            putEight(out, at, add, s0);
            if (rows > 1) putEight(out, at + rowStep, add, s1);
            if (rows > 2) putEight(out, at + 2 * rowStep, add, s2);
            if (rows > 3) putEight(out, at + 3 * rowStep, add, s3);
        } else {
            for (int j = 0; j < left; j++) {
                float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
                for (int k = 0, ak = 0, bk = b0 + j; k < K; k++, ak += aStep, bk += bStep) {
                    float v = b[bk];
                    s0 += a[a0 + ak] * v;
                    s1 += a[a1 + ak] * v;
                    s2 += a[a2 + ak] * v;
                    s3 += a[a3 + ak] * v;
                }
                put(out, at + j, add, s0);
                if (rows > 1) put(out, at + rowStep + j, add, s1);
                if (rows > 2) put(out, at + 2 * rowStep + j, add, s2);
                if (rows > 3) put(out, at + 3 * rowStep + j, add, s3);
            }
        }
    }

    /** The eight floats from out[at] += x where add, else = x. */
    private static void putEight(float[] out, int at, int add, Float8 x) {
        if (add != 0) store8(out, at, Float8.add(load8(out, at), x));
        else store8(out, at, x);
    }

    /** Adds up to four sums to one row at at (fewer where only left remain). */
    private static void addBlockRow(float[] mem, int at, int left, float s0, float s1, float s2, float s3) {
        float[] out = mem;
        out[at] += s0;
        if (left > 1) out[at + 1] += s1;
        if (left > 2) out[at + 2] += s2;
        if (left > 3) out[at + 3] += s3;
    }

    /** out[at] += sum where add, else out[at] = sum (what zeroing out first gives, but for the sign of a zero). */
    private static void put(float[] out, int at, int add, float sum) {
        out[at] = add != 0 ? out[at] + sum : sum;
    }

    /**
     * matmulBackwardInput for a few rows on a CPU device (the LM head at one position: 50 257 weight rows), in
     * two passes. This one: one work-item per (row t, part p of rowsPerPart weight rows), reading its weight rows
     * straight through: parts[t, p, c] = Σ_{o in part p} dout[t, o]·w[o, c], o in order. (A work-item per column
     * block walks every weight row at a stride instead, a new page per row: 38 ms of a 140 ms step on PoCL.)
     * ints: T, C, OC, parts, dout, w offsets, rowsPerPart.
     */
    static void matmulBackwardInputParts(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] parts = mem, dout = mem, w = weights;
        int T = ints[i0], C = ints[i0 + 1], OC = ints[i0 + 2], po = ints[i0 + 3], dOff = ints[i0 + 4];
        int wo = ints[i0 + 5], rowsPerPart = ints[i0 + 6];
        int P = (OC + rowsPerPart - 1) / rowsPerPart, gid = ctx.globalIdx;
        if (gid < T * P) {
            int t = gid / P, p = gid - t * P, at = po + gid * C;
            for (int c = 0; c < C; c++) parts[at + c] = 0f;
            int o = p * rowsPerPart, end = TornadoMath.min(OC, o + rowsPerPart), d0 = dOff + t * OC;
            // Four weight rows per pass over the partial sums: each sum still adds o in order, from a register.
            for (; o + 4 <= end; o += 4) {
                float e0 = dout[d0 + o], e1 = dout[d0 + o + 1], e2 = dout[d0 + o + 2], e3 = dout[d0 + o + 3];
                int r0 = wo + o * C, r1 = r0 + C, r2 = r1 + C, r3 = r2 + C, c = 0;
                // Eight columns at a time (PoCL loads, multiplies and adds the eight at once), then the rest.
                Float8 v0 = splat8(e0), v1 = splat8(e1), v2 = splat8(e2), v3 = splat8(e3);
                for (; c + 8 <= C; c += 8) {
                    Float8 sum = Float8.add(load8(parts, at + c), Float8.mult(v0, load8(w, r0 + c)));
                    sum = Float8.add(sum, Float8.mult(v1, load8(w, r1 + c)));
                    sum = Float8.add(sum, Float8.mult(v2, load8(w, r2 + c)));
                    store8(parts, at + c, Float8.add(sum, Float8.mult(v3, load8(w, r3 + c))));
                }
                for (; c < C; c++) {
                    float sum = parts[at + c] + e0 * w[r0 + c];
                    sum += e1 * w[r1 + c];
                    sum += e2 * w[r2 + c];
                    parts[at + c] = sum + e3 * w[r3 + c];
                }
            }
            for (; o < end; o++) {
                float e = dout[d0 + o];
                int row = wo + o * C;
                for (int c = 0; c < C; c++) parts[at + c] += e * w[row + c];
            }
        }
    }

    /**
     * The second pass: dinp[t, c] += Σ_p parts[t, p, c], p in order, where add, else =. ints: T, C, P, dinp, parts
     * offsets, add.
     */
    static void sumParts(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dinp = mem, parts = mem;
        int T = ints[i0], C = ints[i0 + 1], P = ints[i0 + 2], gid = ctx.globalIdx;
        if (gid < T * C) {
            int t = gid / C, c = gid - t * C, at = ints[i0 + 4] + t * P * C + c;
            float acc = 0f;
            for (int p = 0; p < P; p++) acc += parts[at + p * C];
            put(dinp, ints[i0 + 3] + gid, ints[i0 + 5], acc);
        }
    }

    /**
     * ints: T, C, OC, dw, dout, inp offsets. dw[o, c] += Σ_t dout[t, o]·inp[t, c]: one work-item per BLOCK
     * neighbouring columns of one weight row, its four sums over t in order side by side (one sum over a few
     * rows is all latency). Past C the last column is summed again and not stored.
     */
    static void matmulBackwardWeights(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dw = grads, dout = mem, inp = mem;
        int T = ints[i0], C = ints[i0 + 1], OC = ints[i0 + 2];
        int blocks = (C + 3) / 4, gid = ctx.globalIdx;
        if (gid < OC * blocks) {
            int o = gid / blocks, c = (gid - o * blocks) * 4;
            int dOff = ints[i0 + 4] + o, io = ints[i0 + 5];
            int c1 = TornadoMath.min(c + 1, C - 1), c2 = TornadoMath.min(c + 2, C - 1);
            int c3 = TornadoMath.min(c + 3, C - 1);
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
            for (int t = 0; t < T; t++) {
                float d = dout[dOff + t * OC];
                int row = io + t * C;
                a0 += d * inp[row + c];
                a1 += d * inp[row + c1];
                a2 += d * inp[row + c2];
                a3 += d * inp[row + c3];
            }
            addBlockRow(dw, ints[i0 + 3] + o * C + c, C - c, a0, a1, a2, a3);
        }
    }

    /**
     * matmulBackwardWeights on a CPU device: one work-item per BLOCK rows x LANES columns of dw (weight rows o..o+3,
     * columns c..c+7), each row's sums over t in order as one Float8 (rowsTimesColumns), where a work-item per
     * four columns, one float at a time, took 7.1 ms of the GPT-2-small step for the qkv product; neighbouring
     * work-items take neighbouring columns. ints as matmulBackwardWeights'. Past OC the last row is summed again and
     * not stored.
     */
    static void matmulBackwardWeightsRegisters(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dw = grads, dout = mem, inp = mem;
        int T = ints[i0], C = ints[i0 + 1], OC = ints[i0 + 2], dOff = ints[i0 + 4], io = ints[i0 + 5];
        int blocksC = (C + 7) / 8, gid = ctx.globalIdx;
        if (gid < (OC + 3) / 4 * blocksC) {
            int ob = gid / blocksC, o = ob * 4, c = (gid - ob * blocksC) * 8;
            int o1 = TornadoMath.min(o + 1, OC - 1), o2 = TornadoMath.min(o + 2, OC - 1);
            int o3 = TornadoMath.min(o + 3, OC - 1), rows = TornadoMath.min(4, OC - o);
            // dout's columns o..o+3, a row of OC floats apart along t; the input's row t from column c.
            rowsTimesColumns(
                    dout,
                    dOff + o,
                    dOff + o1,
                    dOff + o2,
                    dOff + o3,
                    OC,
                    inp,
                    io + c,
                    C,
                    T,
                    dw,
                    ints[i0 + 3] + o * C + c,
                    C,
                    rows,
                    C - c,
                    1);
        }
    }

    /** ints: T, OC, dbias, dout offsets. dbias[o] += Σ_t dout[t, o]. */
    static void matmulBackwardBias(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dbias = grads, dout = mem;
        int T = ints[i0], OC = ints[i0 + 1];
        int o = ctx.globalIdx;
        if (o < OC) {
            int dOff = ints[i0 + 3] + o;
            float acc = 0f;
            for (int t = 0; t < T; t++) acc += dout[dOff + t * OC];
            dbias[ints[i0 + 2] + o] += acc;
        }
    }

    /**
     * ints: T, H, KV, D, causal, hasMask, out, att, qkv, mask offsets, q0, Tq. One work-item per (head, query
     * row t in [q0, q0 + Tq)): scores against the T keys, softmax into att (zero beyond the causal limit), then
     * the weighted sum of v. Buffers are indexed by absolute row, as the CPU kernels' are.
     */
    static void attentionForward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, att = mem, qkv = mem, mask = mem;
        int T = ints[i0], H = ints[i0 + 1], KV = ints[i0 + 2], D = ints[i0 + 3];
        int first = ints[i0 + 10], Tq = ints[i0 + 11];
        int gid = ctx.globalIdx;
        if (gid < H * Tq) {
            int h = gid / Tq, t = first + gid - h * Tq, g = h / (H / KV), row = (H + 2 * KV) * D;
            int base = ints[i0 + 8];
            int qo = base + t * row + h * D, ko = base + H * D + g * D, vo = base + (H + KV) * D + g * D;
            int ao = ints[i0 + 7] + (h * T + t) * T, mo = ints[i0 + 9] + (h * T + t) * T;
            int len = ints[i0 + 4] != 0 ? t + 1 : T;
            float scale = 1f / TornadoMath.sqrt(D);
            float max = -3.4e38f;
            for (int s = 0; s < len; s++) {
                float sc = 0f;
                for (int i = 0; i < D; i++) sc += qkv[qo + i] * qkv[ko + s * row + i];
                sc = sc * scale;
                att[ao + s] = sc;
                max = TornadoMath.max(max, sc);
            }
            float sum = 0f;
            for (int s = 0; s < len; s++) {
                float e = TornadoMath.exp(att[ao + s] - max);
                att[ao + s] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int s = 0; s < T; s++) att[ao + s] = s < len ? att[ao + s] * inv : 0f;
            int oo = ints[i0 + 6] + t * H * D + h * D;
            boolean masked = ints[i0 + 5] != 0;
            for (int i = 0; i < D; i++) {
                float acc = 0f;
                for (int s = 0; s < len; s++) {
                    float p = masked ? att[ao + s] * mask[mo + s] : att[ao + s];
                    acc += p * qkv[vo + s * row + i];
                }
                out[oo + i] = acc;
            }
        }
    }

    /**
     * Attention backward, step 1 of 3. ints: T, H, KV, D, causal, hasMask, datt, dout, qkv, att, mask
     * offsets, q0, Tq. Per (head, query row in [q0, q0 + Tq)): datt ← d(scores) = att·(dp − Σ dp·att)·scale,
     * dp = dout·v (masked); 0 past the causal limit.
     */
    static void attentionBackwardScores(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] datt = mem, dout = mem, qkv = mem, att = mem, mask = mem;
        int T = ints[i0], H = ints[i0 + 1], KV = ints[i0 + 2], D = ints[i0 + 3];
        int first = ints[i0 + 11], Tq = ints[i0 + 12];
        int gid = ctx.globalIdx;
        if (gid < H * Tq) {
            int h = gid / Tq, t = first + gid - h * Tq, g = h / (H / KV), row = (H + 2 * KV) * D;
            int vo = ints[i0 + 8] + (H + KV) * D + g * D, doo = ints[i0 + 7] + t * H * D + h * D;
            int rowOff = (h * T + t) * T;
            int dao = ints[i0 + 6] + rowOff, ao = ints[i0 + 9] + rowOff, mo = ints[i0 + 10] + rowOff;
            int len = ints[i0 + 4] != 0 ? t + 1 : T;
            boolean masked = ints[i0 + 5] != 0;
            float scale = 1f / TornadoMath.sqrt(D);
            float dot = 0f;
            for (int s = 0; s < len; s++) {
                float dp = 0f;
                for (int i = 0; i < D; i++) dp += dout[doo + i] * qkv[vo + s * row + i];
                if (masked) dp = dp * mask[mo + s];
                datt[dao + s] = dp;
                dot += dp * att[ao + s];
            }
            for (int s = 0; s < T; s++) datt[dao + s] = s < len ? att[ao + s] * (datt[dao + s] - dot) * scale : 0f;
        }
    }

    /**
     * Step 2: ints as step 1 minus dout/att/mask (T, H, KV, D, dqkv, datt, qkv, q0, Tq). dq[t, h] = Σ_s
     * ds[h, t, s]·k[s, g] for the query rows, zero for the others (their datt rows were not written).
     */
    static void attentionBackwardQuery(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dqkv = mem, datt = mem, qkv = mem;
        int T = ints[i0], H = ints[i0 + 1], KV = ints[i0 + 2], D = ints[i0 + 3];
        int gid = ctx.globalIdx;
        if (gid < T * H * D) {
            int t = gid / (H * D), rest = gid - t * H * D, h = rest / D, i = rest - h * D;
            int g = h / (H / KV), row = (H + 2 * KV) * D;
            int ko = ints[i0 + 6] + H * D + g * D + i, dao = ints[i0 + 5] + (h * T + t) * T;
            int first = ints[i0 + 7], Tq = ints[i0 + 8];
            float acc = 0f;
            if (t >= first && t < first + Tq) {
                for (int s = 0; s < T; s++) acc += datt[dao + s] * qkv[ko + s * row];
            }
            dqkv[ints[i0 + 4] + t * row + h * D + i] = acc;
        }
    }

    /**
     * Step 3: ints: T, H, KV, D, hasMask, dqkv, datt, dout, qkv, att, mask offsets, q0, Tq. Per (key position
     * s, kv head g, i): dk = Σ over g's query heads and the query rows t of ds·q, dv = Σ att·mask·dout.
     */
    static void attentionBackwardKeyValue(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dqkv = mem, datt = mem, dout = mem, qkv = mem, att = mem, mask = mem;
        int T = ints[i0], H = ints[i0 + 1], KV = ints[i0 + 2], D = ints[i0 + 3];
        int gid = ctx.globalIdx;
        if (gid < T * KV * D) {
            int s = gid / (KV * D), rest = gid - s * KV * D, g = rest / D, i = rest - g * D;
            int group = H / KV, row = (H + 2 * KV) * D;
            boolean masked = ints[i0 + 4] != 0;
            int q0 = ints[i0 + 8], dq0 = ints[i0 + 5], da0 = ints[i0 + 6], do0 = ints[i0 + 7];
            int a0 = ints[i0 + 9], m0 = ints[i0 + 10], first = ints[i0 + 11], Tq = ints[i0 + 12];
            float dk = 0f, dv = 0f;
            for (int h = g * group; h < (g + 1) * group; h++) {
                for (int t = first; t < first + Tq; t++) {
                    int r = (h * T + t) * T + s;
                    dk += datt[da0 + r] * qkv[q0 + t * row + h * D + i];
                    float p = masked ? att[a0 + r] * mask[m0 + r] : att[a0 + r];
                    dv += p * dout[do0 + t * H * D + h * D + i];
                }
            }
            dqkv[dq0 + s * row + H * D + g * D + i] = dk;
            dqkv[dq0 + s * row + (H + KV) * D + g * D + i] = dv;
        }
    }

    /** ints: T, H, KV, D, qkv, cos, sin offsets; fl: direction (1 forward, -1 the inverse rotation). */
    static void rope(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] qkv = mem, cos = mem, sin = mem;
        int T = ints[i0], H = ints[i0 + 1], KV = ints[i0 + 2], D = ints[i0 + 3];
        int half = D / 2, heads = H + KV;
        int gid = ctx.globalIdx;
        if (gid < T * heads * half) {
            int t = gid / (heads * half), rest = gid - t * heads * half, head = rest / half, i = rest - head * half;
            int base = ints[i0 + 4] + t * (H + 2 * KV) * D + head * D;
            float c = cos[ints[i0 + 5] + t * half + i], s = fl[f0] * sin[ints[i0 + 6] + t * half + i];
            float x1 = qkv[base + i], x2 = qkv[base + i + half];
            qkv[base + i] = x1 * c - x2 * s;
            qkv[base + i + half] = x2 * c + x1 * s;
        }
    }

    /** erf from the Chebyshev fit of erfc, as the CPU kernels compute it. */
    private static float erf(float xf) {
        float x = TornadoMath.abs(xf);
        float t = 1f / (1f + 0.5f * x);
        // Horner's rule from the innermost coefficient, as CpuKernels.erf writes it
        float p = 0.17087277f;
        p = -0.82215223f + t * p;
        p = 1.48851587f + t * p;
        p = -1.13520398f + t * p;
        p = 0.27886807f + t * p;
        p = -0.18628806f + t * p;
        p = 0.09678418f + t * p;
        p = 0.37409196f + t * p;
        p = 1.00002368f + t * p;
        float y = t * TornadoMath.exp(-x * x - 1.26551223f + t * p);
        float e = 1f - y;
        return xf >= 0f ? e : -e;
    }

    /** ints: N, kind (Nonlinearity ordinal: 0 gelu-tanh, 1 gelu-erf, 2 relu, 3 tanh), out, inp offsets. */
    static void activationForward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, inp = mem;
        int i = ctx.globalIdx;
        if (i < ints[i0]) {
            int kind = ints[i0 + 1];
            float v = inp[ints[i0 + 3] + i];
            float r;
            if (kind == 0) {
                r = 0.5f * v * (1f + TornadoMath.tanh(SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
            } else if (kind == 1) {
                r = 0.5f * v * (1f + erf(v * INV_SQRT_2));
            } else if (kind == 2) {
                r = TornadoMath.max(v, 0f);
            } else {
                r = TornadoMath.tanh(v);
            }
            out[ints[i0 + 2] + i] = r;
        }
    }

    /** ints: N, kind, dinp, inp, dout offsets. dinp += act'(inp)·dout. */
    static void activationBackward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dinp = mem, inp = mem, dout = mem;
        int i = ctx.globalIdx;
        if (i < ints[i0]) {
            int kind = ints[i0 + 1];
            float v = inp[ints[i0 + 3] + i];
            float grad;
            if (kind == 0) {
                float tanh = TornadoMath.tanh(SQRT_2_OVER_PI * (v + 0.044715f * v * v * v));
                float sech2 = 1f - tanh * tanh;
                grad = 0.5f * (1f + tanh) + 0.5f * v * sech2 * SQRT_2_OVER_PI * (1f + 3f * 0.044715f * v * v);
            } else if (kind == 1) {
                grad = 0.5f * (1f + erf(v * INV_SQRT_2)) + v * INV_SQRT_2PI * TornadoMath.exp(-0.5f * v * v);
            } else if (kind == 2) {
                grad = v > 0f ? 1f : 0f;
            } else {
                float tanh = TornadoMath.tanh(v);
                grad = 1f - tanh * tanh;
            }
            int d = ints[i0 + 2] + i;
            dinp[d] += grad * dout[ints[i0 + 4] + i];
        }
    }

    /** ints: T, I, out, gateUp offsets. out[t, i] = silu(gate)·up. */
    static void swigluForward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, gateUp = mem;
        int T = ints[i0], I = ints[i0 + 1];
        int gid = ctx.globalIdx;
        if (gid < T * I) {
            int t = gid / I, i = gid - t * I;
            int go = ints[i0 + 3] + t * 2 * I + i;
            float gate = gateUp[go];
            out[ints[i0 + 2] + gid] = gate / (1f + TornadoMath.exp(-gate)) * gateUp[go + I];
        }
    }

    /** ints: T, I, dgateUp, gateUp, dout offsets; dgateUp is overwritten. */
    static void swigluBackward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dgateUp = mem, gateUp = mem, dout = mem;
        int T = ints[i0], I = ints[i0 + 1];
        int gid = ctx.globalIdx;
        if (gid < T * I) {
            int t = gid / I, i = gid - t * I;
            int go = ints[i0 + 3] + t * 2 * I + i, dgo = ints[i0 + 2] + t * 2 * I + i;
            float gate = gateUp[go], up = gateUp[go + I], d = dout[ints[i0 + 4] + gid];
            float sig = 1f / (1f + TornadoMath.exp(-gate));
            dgateUp[dgo] = d * up * sig * (1f + gate * (1f - sig));
            dgateUp[dgo + I] = d * gate * sig;
        }
    }

    /** ints: N, out, a, b offsets. */
    static void add(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, a = mem, b = mem;
        int i = ctx.globalIdx;
        if (i < ints[i0]) out[ints[i0 + 1] + i] = a[ints[i0 + 2] + i] + b[ints[i0 + 3] + i];
    }

    /** ints: N, x, y offsets. x *= y. */
    static void multiply(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] x = mem, y = mem;
        int i = ctx.globalIdx;
        if (i < ints[i0]) {
            int xo = ints[i0 + 1] + i;
            x[xo] = x[xo] * y[ints[i0 + 2] + i];
        }
    }

    /**
     * ints: N, mask offset, seed low, seed high; fl: p. A counter-based hash (SplitMix-style, in
     * 32 bits) of (seed, i) decides each element: reproducible, and independent of the work split.
     */
    static void dropoutMask(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] mask = mem;
        int i = ctx.globalIdx;
        if (i < ints[i0]) {
            int z = i * 0x9E3779B9 + ints[i0 + 2];
            z = (z ^ (z >>> 16)) * 0x85EBCA6B;
            z = (z ^ ints[i0 + 3]) * 0xC2B2AE35;
            z = z ^ (z >>> 16);
            float u = (z >>> 8) * (1f / 16777216f);
            float p = fl[f0];
            mask[ints[i0 + 1] + i] = u < p ? 0f : 1f / (1f - p);
        }
    }

    /** ints: N, x offset, x's bank. Zeroes activations, or the gradients between steps. */
    static void zero(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        int i = ctx.globalIdx;
        if (i < ints[i0]) store(mem, weights, grads, m1, m2, ints[i0 + 2], ints[i0 + 1] + i, 0f);
    }

    /** ints: N, offset, bank. bank[offset + i] = aux[i]: host data from the staging buffer into its arena. */
    static void upload(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        int i = ctx.globalIdx;
        if (i < ints[i0]) store(mem, weights, grads, m1, m2, ints[i0 + 2], ints[i0 + 1] + i, aux[i]);
    }

    /** ints: N, offset, bank. aux[i] = bank[offset + i]: arena data into the staging buffer for the host. */
    static void download(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        int i = ctx.globalIdx;
        if (i < ints[i0]) {
            int bank = ints[i0 + 2], at = ints[i0 + 1] + i;
            // A store per branch: one select over all five loads would read past the smaller arenas.
            if (bank == MEM) aux[i] = mem[at];
            else if (bank == WEIGHTS) aux[i] = weights[at];
            else if (bank == GRADS) aux[i] = grads[at];
            else if (bank == MOMENT1) aux[i] = m1[at];
            else aux[i] = m2[at];
        }
    }

    /** bank[at] = value, the bank named by its number (branches: a kernel cannot choose between arrays). */
    private static void store(
            float[] mem, float[] weights, float[] grads, float[] m1, float[] m2, int bank, int at, float value) {
        if (bank == MEM) mem[at] = value;
        else if (bank == WEIGHTS) weights[at] = value;
        else if (bank == GRADS) grads[at] = value;
        else if (bank == MOMENT1) m1[at] = value;
        else m2[at] = value;
    }

    /** ints: N, dst, src offsets. */
    static void copy(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dst = mem, src = mem;
        int i = ctx.globalIdx;
        if (i < ints[i0]) dst[ints[i0 + 1] + i] = src[ints[i0 + 2] + i];
    }

    /** ints: n, C, dst, src offsets, rows[n]. dst[i] = src[rows[i]]. */
    static void gatherRows(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        gather(mem, mem, ints, i0, ctx.globalIdx);
    }

    /**
     * gatherRows among the weights: the LM head's rows of the label words, which a product then reads as its
     * weight.
     */
    static void gatherWeightRows(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        gather(weights, weights, ints, i0, ctx.globalIdx);
    }

    private static void gather(float[] dst, float[] src, int[] ints, int i0, int gid) {
        int n = ints[i0], C = ints[i0 + 1];
        if (gid < n * C) {
            int r = gid / C, c = gid - r * C;
            dst[ints[i0 + 2] + gid] = src[ints[i0 + 3] + ints[i0 + 4 + r] * C + c];
        }
    }

    /** ints: n, C, dst, src offsets, rows[n]. dst[rows[i]] += src[i]; one work-item per column. */
    static void scatterAddRows(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dst = mem, src = mem;
        int n = ints[i0], C = ints[i0 + 1];
        int c = ctx.globalIdx;
        if (c < C) {
            for (int r = 0; r < n; r++) {
                int d = ints[i0 + 2] + ints[i0 + 4 + r] * C + c;
                dst[d] = dst[d] + src[ints[i0 + 3] + r * C + c];
            }
        }
    }

    /** ints: T, C, out, inp offsets. out[c] = mean over rows. */
    static void meanRowsForward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] out = mem, inp = mem;
        int T = ints[i0], C = ints[i0 + 1];
        int c = ctx.globalIdx;
        if (c < C) {
            float acc = 0f;
            for (int t = 0; t < T; t++) acc += inp[ints[i0 + 3] + t * C + c];
            out[ints[i0 + 2] + c] = acc / T;
        }
    }

    /** ints: T, C, dinp, dout offsets. dinp[t] += dout / T. */
    static void meanRowsBackward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dinp = mem, dout = mem;
        int T = ints[i0], C = ints[i0 + 1];
        int gid = ctx.globalIdx;
        if (gid < T * C) {
            int c = gid - (gid / C) * C;
            dinp[ints[i0 + 2] + gid] += dout[ints[i0 + 3] + c] / T;
        }
    }

    /** Work-group size of the cross-entropy: one group per row reduces max and sum in local memory. */
    static final int CE_GROUP = 128;

    /**
     * ints: n, V, probs, logits offsets, candidates count K (0: all V), losses offset, targets[n], candidates[K].
     * One work-group per row: the max and the exp-sum over the row's columns are reduced in local
     * memory; losses[r] = -(z[target] - max - log sum), left in the arena until the host reads it.
     */
    static void crossEntropyForward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] probs = mem, logits = mem, losses = mem;
        int n = ints[i0], V = ints[i0 + 1], K = ints[i0 + 4];
        int r = ctx.groupIdx, lid = ctx.localIdx;
        float[] red = ctx.allocateFloatLocalArray(128);
        int count = K == 0 ? V : K;
        int po = ints[i0 + 2] + r * V, zo = ints[i0 + 3] + r * V, cand = i0 + 6 + n;
        float max = -3.4e38f;
        if (r < n) {
            for (int j = lid; j < count; j += 128)
                max = TornadoMath.max(max, logits[zo + (K == 0 ? j : ints[cand + j])]);
        }
        red[lid] = max;
        for (int stride = 64; stride > 0; stride /= 2) {
            ctx.localBarrier();
            if (lid < stride) red[lid] = TornadoMath.max(red[lid], red[lid + stride]);
        }
        ctx.localBarrier();
        max = red[0];
        ctx.localBarrier();
        float sum = 0f;
        if (r < n) {
            for (int j = lid; j < count; j += 128)
                sum += TornadoMath.exp(logits[zo + (K == 0 ? j : ints[cand + j])] - max);
        }
        red[lid] = sum;
        for (int stride = 64; stride > 0; stride /= 2) {
            ctx.localBarrier();
            if (lid < stride) red[lid] = red[lid] + red[lid + stride];
        }
        ctx.localBarrier();
        sum = red[0];
        if (r < n) {
            if (K != 0) {
                for (int j = lid; j < V; j += 128) probs[po + j] = 0f;
                ctx.localBarrier();
            }
            for (int j = lid; j < count; j += 128) {
                int col = K == 0 ? j : ints[cand + j];
                probs[po + col] = TornadoMath.exp(logits[zo + col] - max) / sum;
            }
            if (lid == 0) losses[ints[i0 + 5] + r] = -(logits[zo + ints[i0 + 6 + r]] - max - TornadoMath.log(sum));
        }
    }

    /** ints: n, V, dlogits, probs offsets, targets[n]. dlogits = (probs - onehot) / n, overwritten. */
    static void crossEntropyBackward(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] dlogits = mem, probs = mem;
        int n = ints[i0], V = ints[i0 + 1];
        int gid = ctx.globalIdx;
        if (gid < n * V) {
            int r = gid / V, j = gid - r * V;
            float d = probs[ints[i0 + 3] + gid] / n;
            if (j == ints[i0 + 4 + r]) d = d - 1f / n;
            dlogits[ints[i0 + 2] + gid] = d;
        }
    }

    /**
     * ints: N, params, grads, m, v offsets, elements per work-item; fl: beta1, beta2, the decay factor, and the
     * step size and eps each times sqrt(1 - beta2^step) (so that one division per element is left: on PoCL
     * this pass is bound by the divider, and the CPU kernel's second division by sqrt(1 - beta2^step) is one
     * more per element). Each work-item updates a run of elements (one on a GPU, where neighbouring
     * work-items then touch neighbouring floats; hundreds on a CPU device, where the parameters, read once, stay in
     * registers for the whole run: PoCL reloads them per element otherwise, since a store to the arena might change
     * them).
     */
    static void adamw(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] g = grads;
        int n = ints[i0], po = ints[i0 + 1], go = ints[i0 + 2], mo = ints[i0 + 3], vo = ints[i0 + 4];
        int each = ints[i0 + 5];
        int start = ctx.globalIdx * each;
        adamwElements(g, weights, m1, m2, go, po, mo, vo, start, TornadoMath.min(n, start + each), fl, f0);
    }

    /**
     * ints: N (= R·C), C, params, grads, m, v, dout, inp offsets, elements per work-item; fl as adamw's. AdamW over
     * a weight [R, C] whose gradient is grads + dout ⊗ inp (Kernels.adamwOuterProduct): the LM head's weight
     * gradient at one position, computed here instead of written out by matmulBackwardWeights and read back. grads
     * is zero outside the rows that hold a gradient of their own, so reading every row gives the same sum. Runs of
     * elements per work-item as adamw's; the row and column step along the run instead of a division per element.
     */
    static void adamwOuterProduct(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] g = grads, dout = mem, inp = mem;
        int n = ints[i0], C = ints[i0 + 1], po = ints[i0 + 2], go = ints[i0 + 3], mo = ints[i0 + 4];
        int vo = ints[i0 + 5], dOff = ints[i0 + 6], io = ints[i0 + 7], each = ints[i0 + 8];
        float beta1 = fl[f0], beta2 = fl[f0 + 1], decay = fl[f0 + 2];
        float scaledStep = fl[f0 + 3], scaledEps = fl[f0 + 4];
        int start = ctx.globalIdx * each;
        int end = TornadoMath.min(n, start + each);
        int r = start / C, c = start - r * C;
        float d = start < end ? dout[dOff + r] : 0f;
        for (int i = start; i < end; i++) {
            float grad = g[go + i] + d * inp[io + c];
            g[go + i] = 0f;
            adamwUpdate(weights, m1, m2, po + i, mo + i, vo + i, grad, beta1, beta2, decay, scaledStep, scaledEps);
            c++;
            if (c == C && i + 1 < end) {
                c = 0;
                r++;
                d = dout[dOff + r];
            }
        }
    }

    /**
     * adamw on a CPU device: eight elements at a time as Float8, which TornadoVM emits as OpenCL float8
     * arithmetic, then the run's last few one at a time. PoCL vectorises none of TornadoVM's loops (addresses reach
     * it as integer arithmetic), so adamw waits on the divider, one division and one square root per element;
     * float8 divides eight at once. A GPU keeps adamw: one element per work-item, neighbours on neighbouring floats.
     */
    static void adamwEights(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] g = grads;
        int n = ints[i0], po = ints[i0 + 1], go = ints[i0 + 2], mo = ints[i0 + 3], vo = ints[i0 + 4];
        int each = ints[i0 + 5];
        float beta1 = fl[f0], beta2 = fl[f0 + 1], decay = fl[f0 + 2];
        float scaledStep = fl[f0 + 3], scaledEps = fl[f0 + 4];
        int start = ctx.globalIdx * each;
        int end = TornadoMath.min(n, start + each);
        int i = start;
        for (; i + 8 <= end; i += 8) {
            Float8 grad = load8(g, go + i);
            store8(g, go + i, splat8(0f));
            adamwUpdate8(weights, m1, m2, po + i, mo + i, vo + i, grad, beta1, beta2, decay, scaledStep, scaledEps);
        }
        adamwElements(g, weights, m1, m2, go, po, mo, vo, i, end, fl, f0);
    }

    /**
     * adamwOuterProduct on a CPU device: whole rows per work-item (ints[i0 + 8] of them, not elements), each row eight
     * elements at a time as adamwEights, its last C mod 8 one at a time.
     */
    static void adamwOuterProductEights(
            KernelContext ctx,
            float[] mem,
            float[] weights,
            float[] grads,
            float[] m1,
            float[] m2,
            float[] aux,
            int[] ints,
            float[] fl,
            int i0,
            int f0) {
        float[] g = grads, dout = mem, inp = mem;
        int n = ints[i0], C = ints[i0 + 1], po = ints[i0 + 2], go = ints[i0 + 3], mo = ints[i0 + 4];
        int vo = ints[i0 + 5], dOff = ints[i0 + 6], io = ints[i0 + 7], rowsEach = ints[i0 + 8];
        float beta1 = fl[f0], beta2 = fl[f0 + 1], decay = fl[f0 + 2];
        float scaledStep = fl[f0 + 3], scaledEps = fl[f0 + 4];
        int first = ctx.globalIdx * rowsEach, last = TornadoMath.min(n / C, first + rowsEach);
        for (int r = first; r < last; r++) {
            float d = dout[dOff + r];
            int row = r * C, c = 0;
            for (; c + 8 <= C; c += 8) {
                int i = row + c;
                Float8 grad = Float8.add(load8(g, go + i), Float8.mult(splat8(d), load8(inp, io + c)));
                store8(g, go + i, splat8(0f));
                adamwUpdate8(weights, m1, m2, po + i, mo + i, vo + i, grad, beta1, beta2, decay, scaledStep, scaledEps);
            }
            for (; c < C; c++) {
                int i = row + c;
                float grad = g[go + i] + d * inp[io + c];
                g[go + i] = 0f;
                adamwUpdate(weights, m1, m2, po + i, mo + i, vo + i, grad, beta1, beta2, decay, scaledStep, scaledEps);
            }
        }
    }

    /**
     * AdamW's update of the parameter at po, its moments at mo and vo, from its gradient: the CPU kernel's
     * p·decay - stepSize·m / (sqrt(v) / sqrt(1 - beta2^step) + eps), with numerator and denominator times
     * sqrt(1 - beta2^step).
     */
    private static void adamwUpdate(
            float[] p,
            float[] m,
            float[] v,
            int po,
            int mo,
            int vo,
            float grad,
            float beta1,
            float beta2,
            float decay,
            float scaledStep,
            float scaledEps) {
        float mi = beta1 * m[mo] + (1f - beta1) * grad;
        float vi = beta2 * v[vo] + (1f - beta2) * grad * grad;
        m[mo] = mi;
        v[vo] = vi;
        p[po] = p[po] * decay - scaledStep * mi / (TornadoMath.sqrt(vi) + scaledEps);
    }

    /** adamw's update of elements [from, to) of a weight, each gradient read and zeroed; fl[f0..] as adamw's. */
    private static void adamwElements(
            float[] g,
            float[] p,
            float[] m,
            float[] v,
            int go,
            int po,
            int mo,
            int vo,
            int from,
            int to,
            float[] fl,
            int f0) {
        float beta1 = fl[f0], beta2 = fl[f0 + 1], decay = fl[f0 + 2];
        float scaledStep = fl[f0 + 3], scaledEps = fl[f0 + 4];
        for (int i = from; i < to; i++) {
            float grad = g[go + i];
            g[go + i] = 0f;
            adamwUpdate(p, m, v, po + i, mo + i, vo + i, grad, beta1, beta2, decay, scaledStep, scaledEps);
        }
    }

    /**
     * adamwUpdate on the eight parameters from po, their moments from mo and vo, in the same operations; the square
     * roots one by one (TornadoVM 5.2 fails to compile Float8.sqrt), the scalars as Float8 of eight equal lanes
     * (TornadoVM compiles Float8's arithmetic only between two Float8).
     */
    private static void adamwUpdate8(
            float[] p,
            float[] m,
            float[] v,
            int po,
            int mo,
            int vo,
            Float8 grad,
            float beta1,
            float beta2,
            float decay,
            float scaledStep,
            float scaledEps) {
        Float8 mi = Float8.add(Float8.mult(load8(m, mo), splat8(beta1)), Float8.mult(grad, splat8(1f - beta1)));
        Float8 vi = Float8.add(
                Float8.mult(load8(v, vo), splat8(beta2)), Float8.mult(Float8.mult(grad, splat8(1f - beta2)), grad));
        store8(m, mo, mi);
        store8(v, vo, vi);
        Float8 root = new Float8(
                TornadoMath.sqrt(vi.getS0()),
                TornadoMath.sqrt(vi.getS1()),
                TornadoMath.sqrt(vi.getS2()),
                TornadoMath.sqrt(vi.getS3()),
                TornadoMath.sqrt(vi.getS4()),
                TornadoMath.sqrt(vi.getS5()),
                TornadoMath.sqrt(vi.getS6()),
                TornadoMath.sqrt(vi.getS7()));
        Float8 step = Float8.div(Float8.mult(mi, splat8(scaledStep)), Float8.add(root, splat8(scaledEps)));
        store8(p, po, Float8.sub(Float8.mult(load8(p, po), splat8(decay)), step));
    }

    /** The eight floats from a[at], as one Float8 (read one by one: a float[] has no vector view). */
    private static Float8 load8(float[] a, int at) {
        return new Float8(a[at], a[at + 1], a[at + 2], a[at + 3], a[at + 4], a[at + 5], a[at + 6], a[at + 7]);
    }

    /** x into the eight floats from a[at]. */
    private static void store8(float[] a, int at, Float8 x) {
        a[at] = x.getS0();
        a[at + 1] = x.getS1();
        a[at + 2] = x.getS2();
        a[at + 3] = x.getS3();
        a[at + 4] = x.getS4();
        a[at + 5] = x.getS5();
        a[at + 6] = x.getS6();
        a[at + 7] = x.getS7();
    }

    /** The sum of x's eight lanes, pairwise. */
    private static float lanes(Float8 x) {
        return ((x.getS0() + x.getS1()) + (x.getS2() + x.getS3()))
                + ((x.getS4() + x.getS5()) + (x.getS6() + x.getS7()));
    }

    /** x in all eight lanes. */
    private static Float8 splat8(float x) {
        return new Float8(x, x, x, x, x, x, x, x);
    }
}
