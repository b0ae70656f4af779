package slim.nn.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The operations whose Vector API forms give different bits interpreted than compiled, done in a fixed way, so that a
 * seeded run gives the same bits whenever the JIT compiles the kernels (and whichever of C1 and C2 does):
 * {@code reduceLanes(ADD)} adds the lanes in an order left to the implementation (lane by lane in Java, a tree in C2),
 * and {@code lanewise(EXP)} and {@code lanewise(TANH)} call Intel's SVML when compiled and {@code Math} per lane when
 * not, which differ in the last bit. Here a lane sum is a fixed tree of lane-wise adds, and exp and tanh are Cephes'
 * single-precision polynomials (to 2 ulp), written once for vectors and once, with the same operations in the same
 * order, for scalars, so a vector loop's scalar tail gives the bits its vectors would have.
 */
final class BitExact {
    private static final VectorSpecies<Float> F = Vectors.SPECIES;
    /** 8 and 4 lanes: the first two steps of {@link #sums} on 16 lanes (the second on 8). */
    private static final VectorSpecies<Float> HALF = FloatVector.SPECIES_256, QUARTER = FloatVector.SPECIES_128;
    /** Rotations of the lanes by 8, 4, 2 and 1, for the lane-sum tree; those of at least the width go unused. */
    private static final VectorShuffle<Float> BY_8 = rotation(8),
            BY_4 = rotation(4),
            BY_2 = rotation(2),
            BY_1 = rotation(1);

    // Cephes expf: exp(x) = 2^n · exp(r), n = round(x / ln 2), r = x - n·ln 2 (ln 2 in two parts, exact products).
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    /** Largest x whose exp is finite as computed here, and below which exp is 0 (under the smallest normal). */
    private static final float EXP_HI = 88.3762626647949f, EXP_LO = -87.3365447505531f;
    /** 1.5 · 2^23: adding it rounds to an integer held in the low mantissa bits (whose bits are ROUND_BITS + n). */
    private static final float ROUND = 12582912f;

    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);

    // Cephes tanhf: an odd polynomial below 0.625, 1 - 2 / (exp(2|x|) + 1) above (1 once exp saturates).
    private static final float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f;
    private static final float T3 = 1.33314422036e-1f, T4 = -3.33332819422e-1f;
    private static final float TANH_SMALL = 0.625f;

    private BitExact() {}

    private static VectorShuffle<Float> rotation(int by) {
        return VectorShuffle.iota(F, by % F.length(), 1, true);
    }

    /** The sum of v's lanes: lane i plus lane i + n/2, the same on the first half, and so on to one lane. */
    static float sum(FloatVector v) {
        int n = F.length();
        if (n > 8) v = v.add(v.rearrange(BY_8));
        if (n > 4) v = v.add(v.rearrange(BY_4));
        if (n > 2) v = v.add(v.rearrange(BY_2));
        if (n > 1) v = v.add(v.rearrange(BY_1));
        return v.lane(0);
    }

    /**
     * Lane sums of n vectors at once, the same tree as {@link #sum}: x holds the vectors' lanes, vector a at
     * [a·L, a·L + L), and gets their sums in x[0, n). For kernels with many accumulators: their vectors stored and
     * summed here keep the kernel small enough for C2 to compile it with every Vector API call intrinsified.
     */
    static void sums(float[] x, int n) {
        int width = F.length();
        if (width == 16) {
            for (int a = 0; a < n; a++) {
                FloatVector.fromArray(HALF, x, 16 * a)
                        .add(FloatVector.fromArray(HALF, x, 16 * a + 8))
                        .intoArray(x, 8 * a);
            }
        }
        if (width >= 8) {
            for (int a = 0; a < n; a++) {
                FloatVector.fromArray(QUARTER, x, 8 * a)
                        .add(FloatVector.fromArray(QUARTER, x, 8 * a + 4))
                        .intoArray(x, 4 * a);
            }
        }
        for (int a = 0; a < n; a++) x[a] = (x[4 * a] + x[4 * a + 2]) + (x[4 * a + 1] + x[4 * a + 3]);
    }

    /** e^x of every lane, as {@link #exp(float)} computes it; NaN stays NaN, -∞ and anything under -87.3 give 0. */
    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(EXP_LO).min(EXP_HI);
        FloatVector t = c.fma(LOG2E, ROUND);
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), c);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(F, P2));
        p = p.fma(r, FloatVector.broadcast(F, P3));
        p = p.fma(r, FloatVector.broadcast(F, P4));
        p = p.fma(r, FloatVector.broadcast(F, P5));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        FloatVector scale = t.reinterpretAsInts()
                .add(127 - ROUND_BITS)
                .lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return y.mul(scale).blend(FloatVector.zero(F), x.lt(EXP_LO));
    }

    /** e^x as {@link #exp(FloatVector)} computes each lane. */
    static float exp(float x) {
        float c = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float t = Math.fma(c, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, c);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = p * (r * r) + r + 1f;
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) + 127 - ROUND_BITS) << 23);
        return x < EXP_LO ? 0f : y * scale;
    }

    /** tanh of every lane, as {@link #tanh(float)} computes it. */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector z = x.mul(x);
        FloatVector p = z.fma(T0, T1);
        p = p.fma(z, FloatVector.broadcast(F, T2));
        p = p.fma(z, FloatVector.broadcast(F, T3));
        p = p.fma(z, FloatVector.broadcast(F, T4));
        FloatVector small = p.mul(z).fma(x, x);
        FloatVector e = exp(a.add(a));
        FloatVector large =
                FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(e.add(1f)));
        return large.blend(large.neg(), x.lt(0f)).blend(small, a.lt(TANH_SMALL));
    }

    /** tanh(x) as {@link #tanh(FloatVector)} computes each lane. */
    static float tanh(float x) {
        float a = Math.abs(x);
        float z = x * x;
        float p = Math.fma(z, T0, T1);
        p = Math.fma(p, z, T2);
        p = Math.fma(p, z, T3);
        p = Math.fma(p, z, T4);
        if (a < TANH_SMALL) return Math.fma(p * z, x, x);
        float large = 1f - 2f / (exp(a + a) + 1f);
        return x < 0f ? -large : large;
    }
}
