package slim.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import slim.nn.Slice;

/**
 * The tiled matmul against naive triple loops in double precision, at shapes that exercise every
 * path: full tiles, row and column tails, C not a multiple of the vector width, T = 1, offsets into
 * larger arrays, with and without bias, and the accumulation of every backward output.
 */
class MatmulTest {

    @ParameterizedTest(name = "T={0} C={1} OC={2}")
    @CsvSource({
        "1, 768, 37", // a head on one position
        "1, 5, 3",
        "3, 17, 5", // no full tile anywhere
        "2, 200, 40", // a few positions: one sweep, columns split in bands with a vector tail
        "4, 64, 4", // exactly one tile
        "7, 100, 9", // row, column and vector tails
        "13, 131, 70",
        "33, 192, 130", // several forward bands and backward blocks
        "130, 96, 260", // more rows than one input-gradient block of w
        "9, 600, 150", // forward tiles over three packed blocks of inputs, with a row and a column tail
    })
    void forwardMatchesNaiveLoop(int T, int C, int OC) {
        SplittableRandom random = new SplittableRandom(T * 31L + C * 7L + OC);
        int inOff = 3, wOff = 5, biasOff = 2, outOff = 7;
        float[] inp = random(random, inOff + T * C), w = random(random, wOff + OC * C);
        float[] bias = random(random, biasOff + OC);
        for (float[] b : new float[][] {bias, null}) {
            float[] out = random(random, outOff + T * OC + 4);
            float[] before = out.clone();
            Matmul.forward(from(out, outOff), from(inp, inOff), from(w, wOff), from(b, biasOff), T, C, OC);
            for (int t = 0; t < T; t++) {
                for (int o = 0; o < OC; o++) {
                    double sum = b == null ? 0 : b[biasOff + o];
                    for (int c = 0; c < C; c++) sum += (double) inp[inOff + t * C + c] * w[wOff + o * C + c];
                    assertClose(sum, out[outOff + t * OC + o], C, "out[" + t + "," + o + "]");
                }
            }
            assertUntouched(before, out, outOff, T * OC);
        }
    }

    /**
     * With the weights fixed (an evaluation pass), the forward product packs each weight once and reuses the packs:
     * the same bits as packing per call, over calls of other lengths and offsets; a weight the budget cannot hold
     * is packed per call; and once the scope closes, a changed weight is read again, not its old packs.
     */
    @ParameterizedTest(name = "T={0} C={1} OC={2}")
    @CsvSource({
        "9, 600, 150", // three blocks of inputs per band, and a column tail beyond the packed bands
        "33, 192, 130",
        "8, 64, 64", // the fewest positions that pack
    })
    void keptPacksGiveTheSameBits(int T, int C, int OC) {
        SplittableRandom random = new SplittableRandom(T * 13L + C * 3L + OC);
        int wOff = 5;
        float[] w = random(random, wOff + OC * C), bias = random(random, OC);
        CpuKernels kernels = new CpuKernels();
        try (Kernels.Fixed _ = kernels.weightsFixed()) {
            for (int rows : new int[] {T, 2 * T + 1, T}) {
                float[] inp = random(random, rows * C);
                float[] kept = new float[rows * OC], perCall = new float[rows * OC];
                kernels.matmulForward(Slice.of(kept), Slice.of(inp), from(w, wOff), Slice.of(bias), rows, C, OC);
                Matmul.forward(Slice.of(perCall), Slice.of(inp), from(w, wOff), Slice.of(bias), rows, C, OC);
                assertTrue(Arrays.equals(perCall, kept), "T=" + rows + ": other bits with the kept packs");
            }
        }
        for (int i = wOff; i < w.length; i++) w[i] = -w[i]; // as an optimiser step would, after the pass
        float[] inp = random(random, T * C), kept = new float[T * OC], perCall = new float[T * OC];
        kernels.matmulForward(Slice.of(kept), Slice.of(inp), from(w, wOff), Slice.of(bias), T, C, OC);
        Matmul.forward(Slice.of(perCall), Slice.of(inp), from(w, wOff), Slice.of(bias), T, C, OC);
        assertTrue(Arrays.equals(perCall, kept), "the scope closed, yet the old packs were read");

        ForwardPacks small = new ForwardPacks(OC * C - 1L);
        assertEquals(null, small.of(w, wOff, C, OC, 16, 256), "a weight over the budget is not kept");
    }

    @ParameterizedTest(name = "T={0} C={1} OC={2}")
    @CsvSource({
        "1, 768, 37",
        "1, 5, 3",
        "3, 17, 5",
        "4, 64, 4",
        "7, 100, 9",
        "13, 131, 70",
        "33, 192, 130",
        "6, 64, 300", // the input gradient crosses a block of 256 rows of w
    })
    void backwardAccumulatesNaiveProducts(int T, int C, int OC) {
        SplittableRandom random = new SplittableRandom(T * 17L + C * 5L + OC);
        int dinpOff = 1, dwOff = 6, dbOff = 3, doutOff = 2, inOff = 4, wOff = 9;
        float[] dout = random(random, doutOff + T * OC), inp = random(random, inOff + T * C);
        float[] w = random(random, wOff + OC * C);
        // Gradients start from non-zero values: backward must add to them, not overwrite.
        float[] dinp = random(random, dinpOff + T * C + 3), dw = random(random, dwOff + OC * C + 3);
        float[] dbias = random(random, dbOff + OC + 3);
        float[] dinp0 = dinp.clone(), dw0 = dw.clone(), dbias0 = dbias.clone();

        Matmul.backward(
                from(dinp, dinpOff),
                from(dw, dwOff),
                from(dbias, dbOff),
                from(dout, doutOff),
                from(inp, inOff),
                from(w, wOff),
                T,
                C,
                OC);

        for (int t = 0; t < T; t++) {
            for (int c = 0; c < C; c++) {
                double sum = dinp0[dinpOff + t * C + c];
                for (int o = 0; o < OC; o++) sum += (double) dout[doutOff + t * OC + o] * w[wOff + o * C + c];
                assertClose(sum, dinp[dinpOff + t * C + c], OC, "dinp[" + t + "," + c + "]");
            }
        }
        for (int o = 0; o < OC; o++) {
            double bsum = dbias0[dbOff + o];
            for (int t = 0; t < T; t++) bsum += dout[doutOff + t * OC + o];
            assertClose(bsum, dbias[dbOff + o], T, "dbias[" + o + "]");
            for (int c = 0; c < C; c++) {
                double sum = dw0[dwOff + o * C + c];
                for (int t = 0; t < T; t++) sum += (double) dout[doutOff + t * OC + o] * inp[inOff + t * C + c];
                assertClose(sum, dw[dwOff + o * C + c], T, "dw[" + o + "," + c + "]");
            }
        }
        assertUntouched(dinp0, dinp, dinpOff, T * C);
        assertUntouched(dw0, dw, dwOff, OC * C);
        assertUntouched(dbias0, dbias, dbOff, OC);
    }

    @Test
    void backwardWithoutInputGradientOrBiasTouchesOnlyDw() {
        SplittableRandom random = new SplittableRandom(11);
        int T = 9, C = 80, OC = 12;
        float[] dout = random(random, T * OC), inp = random(random, T * C), w = random(random, OC * C);
        float[] dw = new float[OC * C], expected = new float[OC * C];
        Matmul.backward(null, Slice.of(dw), null, Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC);
        float[] dinp = new float[T * C], dbias = new float[OC];
        Matmul.backward(
                Slice.of(dinp),
                Slice.of(expected),
                Slice.of(dbias),
                Slice.of(dout),
                Slice.of(inp),
                Slice.of(w),
                T,
                C,
                OC);
        assertTrue(Arrays.equals(expected, dw), "dw must not depend on whether dinp and dbias are asked for");
        assertTrue(dbias[0] != 0f && dinp[0] != 0f, "the full call fills dinp and dbias");
    }

    @Test
    void backwardTwiceAddsTwice() {
        SplittableRandom random = new SplittableRandom(5);
        int T = 8, C = 128, OC = 8;
        float[] dout = random(random, T * OC), inp = random(random, T * C), w = random(random, OC * C);
        float[] dinp1 = new float[T * C], dw1 = new float[OC * C], db1 = new float[OC];
        float[] dinp2 = new float[T * C], dw2 = new float[OC * C], db2 = new float[OC];
        Matmul.backward(
                Slice.of(dinp1), Slice.of(dw1), Slice.of(db1), Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC);
        Matmul.backward(
                Slice.of(dinp2), Slice.of(dw2), Slice.of(db2), Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC);
        Matmul.backward(
                Slice.of(dinp2), Slice.of(dw2), Slice.of(db2), Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC);
        for (int i = 0; i < dw1.length; i++) assertEquals(2 * dw1[i], dw2[i], 1e-5f * (1 + Math.abs(dw1[i])));
        for (int i = 0; i < dinp1.length; i++) assertEquals(2 * dinp1[i], dinp2[i], 1e-5f * (1 + Math.abs(dinp1[i])));
        for (int i = 0; i < OC; i++) assertEquals(2 * db1[i], db2[i], 1e-5f * (1 + Math.abs(db1[i])));
    }

    @Test
    void sparseDoutLeavesZeroRowsOfDwUntouched() {
        // A softmax over two candidate labels: dout is zero outside those columns.
        int T = 1, C = 96, OC = 50;
        SplittableRandom random = new SplittableRandom(3);
        float[] dout = new float[OC];
        dout[7] = 0.25f;
        dout[41] = -0.25f;
        float[] inp = random(random, C), w = random(random, OC * C);
        float[] dw = random(random, OC * C), dw0 = dw.clone(), dinp = new float[C];
        Matmul.backward(Slice.of(dinp), Slice.of(dw), null, Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC);
        for (int o = 0; o < OC; o++) {
            for (int c = 0; c < C; c++) {
                double expected = dw0[o * C + c] + (double) dout[o] * inp[c];
                assertClose(expected, dw[o * C + c], 1, "dw[" + o + "," + c + "]");
            }
        }
        for (int c = 0; c < C; c++) {
            assertClose(0.25 * w[7 * C + c] - 0.25 * w[41 * C + c], dinp[c], 2, "dinp[" + c + "]");
        }
    }

    private static float[] random(SplittableRandom random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (random.nextDouble() * 2 - 1);
        return x;
    }

    /** Float sums of n terms of size ≤ 1 drift by about sqrt(n)·ulp; allow a generous multiple. */
    private static void assertClose(double expected, float actual, int terms, String what) {
        double tolerance = 1e-5 * (Math.sqrt(terms) + Math.abs(expected));
        assertEquals(expected, actual, tolerance, what);
    }

    /** Everything outside [off, off + n) must keep its old value. */
    private static void assertUntouched(float[] before, float[] after, int off, int n) {
        for (int i = 0; i < before.length; i++) {
            if (i < off || i >= off + n) assertEquals(before[i], after[i], 0f, "element " + i + " outside the result");
        }
    }

    /** The rest of the array from off, or no slice for no array. */
    private static Slice from(float[] a, int off) {
        return a == null ? null : new Slice(a, off, a.length - off);
    }
}
