package slim.nn.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import slim.nn.Slice;

/**
 * The CPU matrix products of a linear layer, over slices of flat row-major arrays.
 * Weights are [OC, C] (out, in), as in PyTorch's Linear.
 *
 * <p>Each product runs as register tiles (6×4 vectors, and 4×4 dot products forward over few positions):
 * 16 or 24 accumulators live in registers while the loop streams the shared dimension, so every
 * vector loaded feeds four to six multiply-adds. The 6×4 tiles are sized for AVX-512's 32 vector
 * registers (with AVX2's 16 they would spill). All three products share one tile that broadcasts a
 * scalar of one operand against a row of a packed band of the other: forward w transposed, the input
 * gradient w, the weight gradient inp (copied contiguous per task; the weight gradient also reads
 * dout transposed per tile of 6 columns). Forward over fewer than {@link #TILED_ROWS} positions (the
 * head's row) takes dot products of rows instead (inp and w both contiguous along C, no packing),
 * grouped so that a few weight rows stay in L1 and a band of input rows in L2. Rows and columns
 * that do not fill a tile go through the plain dot/axpy loops.
 */
public final class Matmul {
    private static final VectorSpecies<Float> S = Vectors.SPECIES;
    private static final int L = S.length();
    /** Columns of a backward tile: four vectors. */
    private static final int TILE_C = 4 * L;
    /** Weight rows per forward task: 8 tiles of 4, enough tasks to balance two cores at OC = 768. */
    private static final int FWD_ROWS = 32;
    /** Floats of input rows one forward task sweeps per weight tile (256 KiB: a quarter of L2). */
    private static final int FWD_BAND = 1 << 16;
    /**
     * Rows of w packed and streamed per input-gradient tile before its accumulators go back to memory (64 KiB, in L2).
     */
    private static final int BWD_ROWS = 256;
    /** Below this many positions both backward products are memory-bound and run as one sweep (fewRows). */
    private static final int FEW_ROWS = 4;
    /**
     * Positions from which the forward product runs as register tiles over w packed transposed: packing reads w once
     * more, which fewer positions do not repay.
     */
    private static final int TILED_ROWS = 8;
    /** Shares of fewRows' sweep: as many cores as memory bandwidth keeps busy, whatever the machine has. */
    private static final int FEW_ROWS_PARTS = 16;

    /** Per-thread buffers that the products pack a band of w or inp into, and the dot tiles' stored lanes. */
    private static final ThreadLocal<float[][]> PACKED = ThreadLocal.withInitial(() -> new float[3][0]);

    private Matmul() {}

    /**
     * out[T, OC] = inp[T, C] · w[OC, C]ᵀ + bias (bias may be null). From {@link #TILED_ROWS} positions on, the
     * columns that fill whole tiles go through {@link #tiledForward}; the rest are dot products.
     */
    public static void forward(Slice outS, Slice inpS, Slice wS, Slice biasS, int T, int C, int OC) {
        forward(outS, inpS, wS, biasS, T, C, OC, null);
    }

    /** {@link #forward}, taking w's packed bands from packs (nullable) where it holds them, with the same bits. */
    static void forward(Slice outS, Slice inpS, Slice wS, Slice biasS, int T, int C, int OC, ForwardPacks packs) {
        float[] out = outS.data(), inp = inpS.data(), w = wS.data(), bias = CpuKernels.arrayOf(biasS);
        int outOff = outS.offset(), inOff = inpS.offset(), wOff = wS.offset(), biasOff = CpuKernels.offsetOf(biasS);
        int tiledOC = T >= TILED_ROWS ? OC - OC % TILE_C : 0;
        if (tiledOC > 0) {
            float[][][] kept = packs == null ? null : packs.of(w, wOff, C, tiledOC, TILE_C, BWD_ROWS);
            tiledForward(out, outOff, inp, inOff, w, wOff, bias, biasOff, T, C, OC, tiledOC, kept);
        }
        if (tiledOC < OC) dotForward(out, outOff, inp, inOff, w, wOff, bias, biasOff, T, C, OC, tiledOC);
    }

    /**
     * Columns [0, tiledOC) of the forward product as the input gradient runs its own: one task per band of TILE_C
     * columns packs w's rows of that band transposed (BWD_ROWS inputs at a time, so the band stays in L2) and streams
     * it through 6×4 register tiles of positions. No lane is summed across: every output adds its products in input
     * order, one multiply-add at a time, so a position's output has the same bits for any T and thread count. With
     * kept (nullable: [band][block]) a band's blocks are packed into it the first time and read from it after.
     */
    private static void tiledForward(
            float[] out,
            int outOff,
            float[] inp,
            int inOff,
            float[] w,
            int wOff,
            float[] bias,
            int biasOff,
            int T,
            int C,
            int OC,
            int tiledOC,
            float[][][] kept) {
        Parallel.forEach(tiledOC / TILE_C, (long) TILE_C * T * C, band -> {
            int o0 = band * TILE_C;
            for (int t = 0; t < T; t++) {
                int row = outOff + t * OC + o0;
                if (bias == null) Arrays.fill(out, row, row + TILE_C, 0f);
                else System.arraycopy(bias, biasOff + o0, out, row, TILE_C);
            }
            float[][] blocks = kept == null ? null : kept[band];
            float[] scratch = blocks == null ? packed(0, BWD_ROWS * TILE_C) : null;
            for (int c0 = 0; c0 < C; c0 += BWD_ROWS) {
                int n = Math.min(C, c0 + BWD_ROWS) - c0;
                float[] pw = packedBlock(w, wOff, o0, c0, n, C, blocks, scratch);
                bandRows(out, outOff + o0, OC, inp, inOff + c0, C, pw, n, T);
            }
        });
    }

    /**
     * The band at o0, inputs [c0, c0 + n), packed transposed: into scratch, or, with blocks (the band's kept packs),
     * from there, packed into it the first time.
     */
    private static float[] packedBlock(
            float[] w, int wOff, int o0, int c0, int n, int C, float[][] blocks, float[] scratch) {
        if (blocks == null) {
            packTransposed(w, wOff, o0, c0, n, C, scratch);
            return scratch;
        }
        int b = c0 / BWD_ROWS;
        if (blocks[b] == null) {
            blocks[b] = new float[n * TILE_C];
            packTransposed(w, wOff, o0, c0, n, C, blocks[b]);
        }
        return blocks[b];
    }

    /** Columns [oFrom, OC) of the forward product as dot products of rows, in tiles of 4 positions by 4 outputs. */
    private static void dotForward(
            float[] out,
            int outOff,
            float[] inp,
            int inOff,
            float[] w,
            int wOff,
            float[] bias,
            int biasOff,
            int T,
            int C,
            int OC,
            int oFrom) {
        int band = Math.max(4, FWD_BAND / Math.max(1, C) & ~3);
        Parallel.forEach((OC - oFrom + FWD_ROWS - 1) / FWD_ROWS, (long) FWD_ROWS * T * C, block -> {
            int o0 = oFrom + block * FWD_ROWS, o1 = Math.min(OC, o0 + FWD_ROWS);
            float[] lanes = packed(2, 16 * L); // not one array per task: they were most of a step's garbage
            for (int t0 = 0; t0 < T; t0 += band) {
                int t1 = Math.min(T, t0 + band);
                int o = o0;
                for (; o + 4 <= o1; o += 4) {
                    int t = t0;
                    for (; t + 4 <= t1; t += 4)
                        dot4x4(out, outOff, inp, inOff, w, wOff, bias, biasOff, t, o, C, OC, lanes);
                    for (; t < t1; t++) dot1x4(out, outOff, inp, inOff, w, wOff, bias, biasOff, t, o, C, OC, lanes);
                }
                for (; o < o1; o++) {
                    float b = bias == null ? 0f : bias[biasOff + o];
                    for (int t = t0; t < t1; t++) {
                        out[outOff + t * OC + o] = b + dot(inp, inOff + t * C, w, wOff + o * C, C);
                    }
                }
            }
        });
    }

    /**
     * Sixteen dot products: rows t..t+3 of inp against rows o..o+3 of w. The accumulators' lane sums go through
     * {@link BitExact#sums} in the lanes buffer (16·L floats): sixteen inlined vector lane sums made this method too
     * large for C2, which then stopped inlining the Vector API's intrinsics in it and ran the product 2-5x slower.
     */
    private static void dot4x4(
            float[] out,
            int outOff,
            float[] a,
            int aOff,
            float[] w,
            int wOff,
            float[] bias,
            int biasOff,
            int t,
            int o,
            int C,
            int OC,
            float[] lanes) {
        int a0 = aOff + t * C, a1 = a0 + C, a2 = a1 + C, a3 = a2 + C;
        int w0 = wOff + o * C, w1 = w0 + C, w2 = w1 + C, w3 = w2 + C;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int i = 0;
        for (int bound = S.loopBound(C); i < bound; i += L) {
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + i), x1 = FloatVector.fromArray(S, a, a1 + i);
            FloatVector x2 = FloatVector.fromArray(S, a, a2 + i), x3 = FloatVector.fromArray(S, a, a3 + i);
            FloatVector y = FloatVector.fromArray(S, w, w0 + i);
            c00 = x0.fma(y, c00);
            c10 = x1.fma(y, c10);
            c20 = x2.fma(y, c20);
            c30 = x3.fma(y, c30);
            y = FloatVector.fromArray(S, w, w1 + i);
            c01 = x0.fma(y, c01);
            c11 = x1.fma(y, c11);
            c21 = x2.fma(y, c21);
            c31 = x3.fma(y, c31);
            y = FloatVector.fromArray(S, w, w2 + i);
            c02 = x0.fma(y, c02);
            c12 = x1.fma(y, c12);
            c22 = x2.fma(y, c22);
            c32 = x3.fma(y, c32);
            y = FloatVector.fromArray(S, w, w3 + i);
            c03 = x0.fma(y, c03);
            c13 = x1.fma(y, c13);
            c23 = x2.fma(y, c23);
            c33 = x3.fma(y, c33);
        }
        c00.intoArray(lanes, 0);
        c01.intoArray(lanes, L);
        c02.intoArray(lanes, 2 * L);
        c03.intoArray(lanes, 3 * L);
        c10.intoArray(lanes, 4 * L);
        c11.intoArray(lanes, 5 * L);
        c12.intoArray(lanes, 6 * L);
        c13.intoArray(lanes, 7 * L);
        c20.intoArray(lanes, 8 * L);
        c21.intoArray(lanes, 9 * L);
        c22.intoArray(lanes, 10 * L);
        c23.intoArray(lanes, 11 * L);
        c30.intoArray(lanes, 12 * L);
        c31.intoArray(lanes, 13 * L);
        c32.intoArray(lanes, 14 * L);
        c33.intoArray(lanes, 15 * L);
        BitExact.sums(lanes, 16);
        for (int r = 0; r < 4; r++) {
            int ar = a0 + r * C, outRow = outOff + (t + r) * OC + o;
            for (int c = 0; c < 4; c++) {
                float b = bias == null ? 0f : bias[biasOff + o + c];
                out[outRow + c] = b + tail(lanes[4 * r + c], a, ar, w, w0 + c * C, i, C);
            }
        }
    }

    /**
     * Four dot products: row t of inp against rows o..o+3 of w (one row left over, or T = 1 heads); lane sums as in
     * {@link #dot4x4}.
     */
    private static void dot1x4(
            float[] out,
            int outOff,
            float[] a,
            int aOff,
            float[] w,
            int wOff,
            float[] bias,
            int biasOff,
            int t,
            int o,
            int C,
            int OC,
            float[] lanes) {
        int a0 = aOff + t * C;
        int w0 = wOff + o * C, w1 = w0 + C, w2 = w1 + C, w3 = w2 + C;
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int i = 0;
        for (int bound = S.loopBound(C); i < bound; i += L) {
            FloatVector x = FloatVector.fromArray(S, a, a0 + i);
            c0 = x.fma(FloatVector.fromArray(S, w, w0 + i), c0);
            c1 = x.fma(FloatVector.fromArray(S, w, w1 + i), c1);
            c2 = x.fma(FloatVector.fromArray(S, w, w2 + i), c2);
            c3 = x.fma(FloatVector.fromArray(S, w, w3 + i), c3);
        }
        c0.intoArray(lanes, 0);
        c1.intoArray(lanes, L);
        c2.intoArray(lanes, 2 * L);
        c3.intoArray(lanes, 3 * L);
        BitExact.sums(lanes, 4);
        int r = outOff + t * OC + o;
        for (int c = 0; c < 4; c++) {
            float b = bias == null ? 0f : bias[biasOff + o + c];
            out[r + c] = b + tail(lanes[c], a, a0, w, w0 + c * C, i, C);
        }
    }

    /** A dot product's lane sum plus its scalar tail [from, n), added in order. */
    private static float tail(float sum, float[] a, int aRow, float[] w, int wRow, int from, int n) {
        for (int i = from; i < n; i++) sum += a[aRow + i] * w[wRow + i];
        return sum;
    }

    /**
     * dinp += dout·w (skipped when dinp is null), dw += doutᵀ·inp (skipped when dw is null), dbias += column sums of
     * dout.
     */
    public static void backward(
            Slice dinpS, Slice dwS, Slice dbiasS, Slice doutS, Slice inpS, Slice wS, int T, int C, int OC) {
        float[] dinp = CpuKernels.arrayOf(dinpS), dw = CpuKernels.arrayOf(dwS), dbias = CpuKernels.arrayOf(dbiasS);
        float[] dout = doutS.data(), inp = inpS.data(), w = wS.data();
        int dinpOff = CpuKernels.offsetOf(dinpS),
                dwOff = CpuKernels.offsetOf(dwS),
                dbiasOff = CpuKernels.offsetOf(dbiasS);
        int doutOff = doutS.offset(), inOff = inpS.offset(), wOff = wS.offset();
        if (T < FEW_ROWS) {
            fewRows(dinp, dinpOff, dw, dwOff, dout, doutOff, inp, inOff, w, wOff, T, C, OC);
        } else {
            if (dinp != null) inputGradient(dinp, dinpOff, dout, doutOff, w, wOff, T, C, OC);
            if (dw != null) weightGradient(dw, dwOff, dout, doutOff, inp, inOff, T, C, OC);
        }
        if (dbias != null) biasGradient(dbias, dbiasOff, dout, doutOff, T, OC);
    }

    /**
     * Both backward products for a few positions (an LM head at the last position): memory-bound, as
     * each weight is used T times. One sweep down the rows of w and dw does both, each task over whole
     * rows so that memory is read in long runs; each task sums its share of dinp apart (a few
     * kilobytes), added up at the end. Rows whose dout is zero at every position are skipped
     * (outside a candidate-label softmax). The tasks are {@link #FEW_ROWS_PARTS}, not one per thread,
     * so that dinp's sum, and with it every later bit, is the same on any number of threads.
     */
    private static void fewRows(
            float[] dinp,
            int dinpOff,
            float[] dw,
            int dwOff,
            float[] dout,
            int doutOff,
            float[] inp,
            int inOff,
            float[] w,
            int wOff,
            int T,
            int C,
            int OC) {
        int parts = Math.min(OC, FEW_ROWS_PARTS);
        float[] partial = dinp == null ? null : new float[parts * T * C];
        Parallel.forEach(parts, (long) T * C * OC / parts, part -> {
            int o1 = (int) ((long) OC * (part + 1) / parts);
            for (int o = (int) ((long) OC * part / parts); o < o1; o++) {
                for (int t = 0; t < T; t++) {
                    float g = dout[doutOff + t * OC + o];
                    if (partial != null) axpy(g, w, wOff + o * C, partial, (part * T + t) * C, C);
                    if (dw != null) axpy(g, inp, inOff + t * C, dw, dwOff + o * C, C);
                }
            }
        });
        if (partial != null) {
            for (int part = 0; part < parts; part++) {
                for (int t = 0; t < T; t++) axpy(1f, partial, (part * T + t) * C, dinp, dinpOff + t * C, C);
            }
        }
    }

    /**
     * dinp[T, C] += dout[T, OC] · w[OC, C], one task per band of TILE_C columns. Each BWD_ROWS rows of
     * the band are first copied contiguous (packed): the tiles then stream them in order, instead of
     * 256 bytes out of every row of w, which the hardware prefetcher and the TLB follow badly. Tiles
     * of 6 positions (then one of 4, then single rows through axpy, which skips zeros of dout: a
     * softmax over a few candidate labels leaves most of it zero).
     */
    private static void inputGradient(
            float[] dinp, int dinpOff, float[] dout, int doutOff, float[] w, int wOff, int T, int C, int OC) {
        int tiledC = C - C % TILE_C;
        Parallel.forEach(tiledC / TILE_C, (long) TILE_C * T * OC, band -> {
            int c0 = band * TILE_C;
            float[] pw = packed(0, BWD_ROWS * TILE_C);
            for (int o0 = 0; o0 < OC; o0 += BWD_ROWS) {
                int n = Math.min(OC, o0 + BWD_ROWS) - o0;
                packBand(w, wOff, o0, o0 + n, c0, C, pw);
                bandRows(dinp, dinpOff + c0, C, dout, doutOff + o0, OC, pw, n, T);
            }
        });
        if (tiledC < C) { // columns past the last full band
            Parallel.forEach(T, (long) (C - tiledC) * OC, t -> {
                for (int o = 0; o < OC; o++) {
                    axpy(
                            dout[doutOff + t * OC + o],
                            w,
                            wOff + o * C + tiledC,
                            dinp,
                            dinpOff + t * C + tiledC,
                            C - tiledC);
                }
            });
        }
    }

    /**
     * dw[OC, C] += dout[T, OC]ᵀ · inp[T, C], one task per band of TILE_C columns: the band of inp is
     * packed once (T × TILE_C, contiguous) and streamed by every tile of 6 rows of dw (then one of 4,
     * then single rows). A tile whose dout columns are zero at every position is skipped (the rows
     * outside a candidate-label softmax); on a dense dout the check stops at its first element.
     */
    private static void weightGradient(
            float[] dw, int dwOff, float[] dout, int doutOff, float[] inp, int inOff, int T, int C, int OC) {
        int tiledC = C - C % TILE_C, tiles = OC / 6;
        // doutᵀ in tiles of 6 columns, [tile][T][6]: each tile then reads its column block in order.
        float[] pd = packed(1, tiles * 6 * T);
        Parallel.forEach(tiles, 6L * T, i -> {
            for (int t = 0, src = doutOff + 6 * i, dst = i * T * 6; t < T; t++, src += OC, dst += 6) {
                pd[dst] = dout[src];
                pd[dst + 1] = dout[src + 1];
                pd[dst + 2] = dout[src + 2];
                pd[dst + 3] = dout[src + 3];
                pd[dst + 4] = dout[src + 4];
                pd[dst + 5] = dout[src + 5];
            }
        });
        Parallel.forEach(tiledC / TILE_C, (long) TILE_C * T * OC, band -> {
            int c0 = band * TILE_C;
            float[] pin = packed(0, T * TILE_C);
            packBand(inp, inOff, 0, T, c0, C, pin);
            int o = 0;
            for (; o + 6 <= OC; o += 6) {
                if (!zeroColumns(dout, doutOff, o, 6, T, OC))
                    tile6x4(dw, dwOff + o * C + c0, C, pd, o * T, 1, 6, pin, T);
            }
            if (OC - o >= 4) {
                if (!zeroColumns(dout, doutOff, o, 4, T, OC))
                    tile4x4(dw, dwOff + o * C + c0, C, dout, doutOff + o, 1, OC, pin, T);
                o += 4;
            }
            for (; o < OC; o++) {
                for (int t = 0; t < T; t++)
                    axpy(dout[doutOff + t * OC + o], pin, t * TILE_C, dw, dwOff + o * C + c0, TILE_C);
            }
        });
        if (tiledC < C) { // columns past the last full band
            Parallel.forEach(OC, (long) (C - tiledC) * T, o -> {
                for (int t = 0; t < T; t++) {
                    axpy(
                            dout[doutOff + t * OC + o],
                            inp,
                            inOff + t * C + tiledC,
                            dw,
                            dwOff + o * C + tiledC,
                            C - tiledC);
                }
            });
        }
    }

    private static boolean zeroColumns(float[] dout, int doutOff, int o, int rows, int T, int OC) {
        for (int t = 0; t < T; t++) {
            for (int r = 0; r < rows; r++) if (dout[doutOff + t * OC + o + r] != 0f) return false;
        }
        return true;
    }

    /**
     * The calling thread's packing buffer `slot` (0: a band, in a task; 1: doutᵀ, for a whole call; 2: the dot
     * tiles' accumulators for their lane sums), of at least n floats.
     */
    private static float[] packed(int slot, int n) {
        float[][] buffer = PACKED.get();
        if (buffer[slot].length < n) buffer[slot] = new float[n];
        return buffer[slot];
    }

    /**
     * acc[T rows, TILE_C] += a[T rows, K] · b[K, TILE_C] (b packed, rows TILE_C apart), row t of acc at
     * accOff + t·accStride and of a at aOff + t·aRow: 6×4 tiles, then one 4×4, then single rows. The forward product
     * (a = inp, b = w transposed) and the input gradient (a = dout, b = w) run their bands through it.
     */
    private static void bandRows(
            float[] acc, int accOff, int accStride, float[] a, int aOff, int aRow, float[] b, int K, int T) {
        int t = 0;
        for (; t + 6 <= T; t += 6) tile6x4(acc, accOff + t * accStride, accStride, a, aOff + t * aRow, aRow, 1, b, K);
        if (T - t >= 4) {
            tile4x4(acc, accOff + t * accStride, accStride, a, aOff + t * aRow, aRow, 1, b, K);
            t += 4;
        }
        for (; t < T; t++) {
            for (int k = 0; k < K; k++)
                axpy(a[aOff + t * aRow + k], b, k * TILE_C, acc, accOff + t * accStride, TILE_C);
        }
    }

    /**
     * Packs w's rows [o0, o0 + TILE_C), columns [c0, c0 + n), transposed: dst[c - c0][j] = w[o0 + j][c], rows TILE_C
     * apart, so that the forward's tiles read w as the input gradient's read their packed band.
     */
    private static void packTransposed(float[] w, int wOff, int o0, int c0, int n, int C, float[] dst) {
        for (int j = 0; j < TILE_C; j++) {
            int src = wOff + (o0 + j) * C + c0;
            for (int c = 0; c < n; c++) dst[c * TILE_C + j] = w[src + c];
        }
    }

    /** Copies columns [c0, c0 + TILE_C) of rows [r0, r1) of a row-major matrix (row stride C) into dst, contiguous. */
    private static void packBand(float[] src, int off, int r0, int r1, int c0, int C, float[] dst) {
        for (int r = r0; r < r1; r++) System.arraycopy(src, off + r * C + c0, dst, (r - r0) * TILE_C, TILE_C);
    }

    /**
     * Both backward products in one register tile: acc[6 rows, TILE_C] += Σ_{k < K} a(k, row) · b[k, 0..TILE_C),
     * acc's rows accStride apart, a(k, row) at a[aOff + row·aRow + k·aK], b packed (rows TILE_C apart).
     * The input gradient runs it with rows = positions and k = outputs (a = dout, b = w); the weight
     * gradient with rows = outputs and k = positions (a = doutᵀ, b = inp). Per k: 4 loads and 6
     * broadcasts feed 24 multiply-adds; 24 of AVX-512's 32 vector registers hold acc.
     */
    private static void tile6x4(
            float[] acc, int accOff, int accStride, float[] a, int aOff, int aRow, int aK, float[] b, int K) {
        int x0 = accOff,
                x1 = x0 + accStride,
                x2 = x1 + accStride,
                x3 = x2 + accStride,
                x4 = x3 + accStride,
                x5 = x4 + accStride;
        FloatVector c00 = FloatVector.fromArray(S, acc, x0), c01 = FloatVector.fromArray(S, acc, x0 + L);
        FloatVector c02 = FloatVector.fromArray(S, acc, x0 + 2 * L), c03 = FloatVector.fromArray(S, acc, x0 + 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, acc, x1), c11 = FloatVector.fromArray(S, acc, x1 + L);
        FloatVector c12 = FloatVector.fromArray(S, acc, x1 + 2 * L), c13 = FloatVector.fromArray(S, acc, x1 + 3 * L);
        FloatVector c20 = FloatVector.fromArray(S, acc, x2), c21 = FloatVector.fromArray(S, acc, x2 + L);
        FloatVector c22 = FloatVector.fromArray(S, acc, x2 + 2 * L), c23 = FloatVector.fromArray(S, acc, x2 + 3 * L);
        FloatVector c30 = FloatVector.fromArray(S, acc, x3), c31 = FloatVector.fromArray(S, acc, x3 + L);
        FloatVector c32 = FloatVector.fromArray(S, acc, x3 + 2 * L), c33 = FloatVector.fromArray(S, acc, x3 + 3 * L);
        FloatVector c40 = FloatVector.fromArray(S, acc, x4), c41 = FloatVector.fromArray(S, acc, x4 + L);
        FloatVector c42 = FloatVector.fromArray(S, acc, x4 + 2 * L), c43 = FloatVector.fromArray(S, acc, x4 + 3 * L);
        FloatVector c50 = FloatVector.fromArray(S, acc, x5), c51 = FloatVector.fromArray(S, acc, x5 + L);
        FloatVector c52 = FloatVector.fromArray(S, acc, x5 + 2 * L), c53 = FloatVector.fromArray(S, acc, x5 + 3 * L);
        int r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow, r4 = 4 * aRow, r5 = 5 * aRow;
        for (int k = 0; k < K; k++) {
            int br = k * TILE_C, ak = aOff + k * aK;
            FloatVector y0 = FloatVector.fromArray(S, b, br), y1 = FloatVector.fromArray(S, b, br + L);
            FloatVector y2 = FloatVector.fromArray(S, b, br + 2 * L), y3 = FloatVector.fromArray(S, b, br + 3 * L);
            FloatVector g = FloatVector.broadcast(S, a[ak]);
            c00 = y0.fma(g, c00);
            c01 = y1.fma(g, c01);
            c02 = y2.fma(g, c02);
            c03 = y3.fma(g, c03);
            g = FloatVector.broadcast(S, a[ak + r1]);
            c10 = y0.fma(g, c10);
            c11 = y1.fma(g, c11);
            c12 = y2.fma(g, c12);
            c13 = y3.fma(g, c13);
            g = FloatVector.broadcast(S, a[ak + r2]);
            c20 = y0.fma(g, c20);
            c21 = y1.fma(g, c21);
            c22 = y2.fma(g, c22);
            c23 = y3.fma(g, c23);
            g = FloatVector.broadcast(S, a[ak + r3]);
            c30 = y0.fma(g, c30);
            c31 = y1.fma(g, c31);
            c32 = y2.fma(g, c32);
            c33 = y3.fma(g, c33);
            g = FloatVector.broadcast(S, a[ak + r4]);
            c40 = y0.fma(g, c40);
            c41 = y1.fma(g, c41);
            c42 = y2.fma(g, c42);
            c43 = y3.fma(g, c43);
            g = FloatVector.broadcast(S, a[ak + r5]);
            c50 = y0.fma(g, c50);
            c51 = y1.fma(g, c51);
            c52 = y2.fma(g, c52);
            c53 = y3.fma(g, c53);
        }
        c00.intoArray(acc, x0);
        c01.intoArray(acc, x0 + L);
        c02.intoArray(acc, x0 + 2 * L);
        c03.intoArray(acc, x0 + 3 * L);
        c10.intoArray(acc, x1);
        c11.intoArray(acc, x1 + L);
        c12.intoArray(acc, x1 + 2 * L);
        c13.intoArray(acc, x1 + 3 * L);
        c20.intoArray(acc, x2);
        c21.intoArray(acc, x2 + L);
        c22.intoArray(acc, x2 + 2 * L);
        c23.intoArray(acc, x2 + 3 * L);
        c30.intoArray(acc, x3);
        c31.intoArray(acc, x3 + L);
        c32.intoArray(acc, x3 + 2 * L);
        c33.intoArray(acc, x3 + 3 * L);
        c40.intoArray(acc, x4);
        c41.intoArray(acc, x4 + L);
        c42.intoArray(acc, x4 + 2 * L);
        c43.intoArray(acc, x4 + 3 * L);
        c50.intoArray(acc, x5);
        c51.intoArray(acc, x5 + L);
        c52.intoArray(acc, x5 + 2 * L);
        c53.intoArray(acc, x5 + 3 * L);
    }

    /** tile6x4 for 4 rows (what is left of the positions or outputs after the tiles of 6). */
    private static void tile4x4(
            float[] acc, int accOff, int accStride, float[] a, int aOff, int aRow, int aK, float[] b, int K) {
        int x0 = accOff, x1 = x0 + accStride, x2 = x1 + accStride, x3 = x2 + accStride;
        FloatVector c00 = FloatVector.fromArray(S, acc, x0), c01 = FloatVector.fromArray(S, acc, x0 + L);
        FloatVector c02 = FloatVector.fromArray(S, acc, x0 + 2 * L), c03 = FloatVector.fromArray(S, acc, x0 + 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, acc, x1), c11 = FloatVector.fromArray(S, acc, x1 + L);
        FloatVector c12 = FloatVector.fromArray(S, acc, x1 + 2 * L), c13 = FloatVector.fromArray(S, acc, x1 + 3 * L);
        FloatVector c20 = FloatVector.fromArray(S, acc, x2), c21 = FloatVector.fromArray(S, acc, x2 + L);
        FloatVector c22 = FloatVector.fromArray(S, acc, x2 + 2 * L), c23 = FloatVector.fromArray(S, acc, x2 + 3 * L);
        FloatVector c30 = FloatVector.fromArray(S, acc, x3), c31 = FloatVector.fromArray(S, acc, x3 + L);
        FloatVector c32 = FloatVector.fromArray(S, acc, x3 + 2 * L), c33 = FloatVector.fromArray(S, acc, x3 + 3 * L);
        int r1 = aRow, r2 = 2 * aRow, r3 = 3 * aRow;
        for (int k = 0; k < K; k++) {
            int br = k * TILE_C, ak = aOff + k * aK;
            FloatVector y0 = FloatVector.fromArray(S, b, br), y1 = FloatVector.fromArray(S, b, br + L);
            FloatVector y2 = FloatVector.fromArray(S, b, br + 2 * L), y3 = FloatVector.fromArray(S, b, br + 3 * L);
            FloatVector g = FloatVector.broadcast(S, a[ak]);
            c00 = y0.fma(g, c00);
            c01 = y1.fma(g, c01);
            c02 = y2.fma(g, c02);
            c03 = y3.fma(g, c03);
            g = FloatVector.broadcast(S, a[ak + r1]);
            c10 = y0.fma(g, c10);
            c11 = y1.fma(g, c11);
            c12 = y2.fma(g, c12);
            c13 = y3.fma(g, c13);
            g = FloatVector.broadcast(S, a[ak + r2]);
            c20 = y0.fma(g, c20);
            c21 = y1.fma(g, c21);
            c22 = y2.fma(g, c22);
            c23 = y3.fma(g, c23);
            g = FloatVector.broadcast(S, a[ak + r3]);
            c30 = y0.fma(g, c30);
            c31 = y1.fma(g, c31);
            c32 = y2.fma(g, c32);
            c33 = y3.fma(g, c33);
        }
        c00.intoArray(acc, x0);
        c01.intoArray(acc, x0 + L);
        c02.intoArray(acc, x0 + 2 * L);
        c03.intoArray(acc, x0 + 3 * L);
        c10.intoArray(acc, x1);
        c11.intoArray(acc, x1 + L);
        c12.intoArray(acc, x1 + 2 * L);
        c13.intoArray(acc, x1 + 3 * L);
        c20.intoArray(acc, x2);
        c21.intoArray(acc, x2 + L);
        c22.intoArray(acc, x2 + 2 * L);
        c23.intoArray(acc, x2 + 3 * L);
        c30.intoArray(acc, x3);
        c31.intoArray(acc, x3 + L);
        c32.intoArray(acc, x3 + 2 * L);
        c33.intoArray(acc, x3 + 3 * L);
    }

    /** dbias[OC] += Σ_t dout[t]: whole rows at a time (T·OC adds, too few to split). */
    private static void biasGradient(float[] dbias, int dbiasOff, float[] dout, int doutOff, int T, int OC) {
        for (int t = 0; t < T; t++) axpy(1f, dout, doutOff + t * OC, dbias, dbiasOff, OC);
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float sum = BitExact.sum(acc);
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /** y += alpha · x. */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        if (alpha == 0f) return;
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i)
                    .fma(va, FloatVector.fromArray(S, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }
}
