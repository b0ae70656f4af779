package slim.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * BitExact's lane sum follows its fixed tree, and its vector exp and tanh give every lane the bits of the scalar
 * forms (which vector loops' tails use), within a few ulp of Math's. Each check runs long enough for the JIT to
 * compile it, and nn's build runs this at every vector width.
 */
class BitExactTest {
    static final VectorSpecies<Float> F = Vectors.SPECIES;
    static final int ROUNDS = 20_000;

    /** lane i += lane (i + step) mod n for step = n/2, n/4, ..., 1, all lanes at once; the total is lane 0. */
    static float treeSum(float[] lanes) {
        float[] a = lanes.clone();
        for (int step = a.length / 2; step >= 1; step /= 2) {
            float[] b = new float[a.length];
            for (int i = 0; i < a.length; i++) b[i] = a[i] + a[(i + step) % a.length];
            a = b;
        }
        return a[0];
    }

    private static float[] lanes(SplittableRandom random, float scale) {
        float[] a = new float[F.length()];
        for (int i = 0; i < a.length; i++) a[i] = (float) (random.nextGaussian() * scale);
        return a;
    }

    @Test
    void theLaneSumAddsInItsFixedOrder() {
        SplittableRandom random = new SplittableRandom(1);
        int orderMatters = 0;
        for (int round = 0; round < ROUNDS; round++) {
            float[] a = lanes(random, round % 2 == 0 ? 1f : 1e6f);
            float expected = treeSum(a);
            assertEquals(
                    Float.floatToRawIntBits(expected), Float.floatToRawIntBits(BitExact.sum(a(a))), "round " + round);
            float sequential = 0f;
            for (float x : a) sequential += x;
            if (sequential != expected) orderMatters++;
        }
        assertTrue(F.length() < 4 || orderMatters > 0, "the inputs were ones where the order of the adds shows");
    }

    @Test
    void manyLaneSumsAtOnceGiveEachVectorsTreeSum() {
        SplittableRandom random = new SplittableRandom(2);
        int L = F.length();
        for (int round = 0; round < ROUNDS / 10; round++) {
            int n = 1 + round % 16;
            float[] x = new float[n * L];
            float[][] vectors = new float[n][];
            for (int a = 0; a < n; a++) {
                vectors[a] = lanes(random, round % 2 == 0 ? 1f : 1e6f);
                System.arraycopy(vectors[a], 0, x, a * L, L);
            }
            BitExact.sums(x, n);
            for (int a = 0; a < n; a++) {
                assertEquals(
                        Float.floatToRawIntBits(treeSum(vectors[a])),
                        Float.floatToRawIntBits(x[a]),
                        "round " + round + ", vector " + a + " of " + n);
            }
        }
    }

    private static FloatVector a(float[] lanes) {
        return FloatVector.fromArray(F, lanes, 0);
    }

    /** Every lane's bits as the scalar form gives them, and at most maxUlps from the reference. */
    private static void sameBitsAsScalar(
            UnaryOperator<FloatVector> vector,
            DoubleUnaryOperator scalar,
            DoubleUnaryOperator reference,
            float[] inputs,
            int maxUlps) {
        float[] lanes = new float[F.length()], out = new float[F.length()];
        for (int round = 0; round < ROUNDS / 10; round++) {
            for (int i = 0; i + lanes.length <= inputs.length; i += lanes.length) {
                System.arraycopy(inputs, i, lanes, 0, lanes.length);
                vector.apply(a(lanes)).intoArray(out, 0);
                for (int j = 0; j < lanes.length; j++) {
                    float x = lanes[j], got = (float) scalar.applyAsDouble(x);
                    assertEquals(Float.floatToRawIntBits(got), Float.floatToRawIntBits(out[j]), "lane of x = " + x);
                    if (round > 0) continue;
                    float want = (float) reference.applyAsDouble(x);
                    if (Float.isNaN(want)) {
                        assertTrue(Float.isNaN(got), "x = " + x);
                    } else {
                        float error = Math.abs(got - want) / Math.max(Math.ulp(want), Float.MIN_NORMAL);
                        assertTrue(error <= maxUlps, "x = " + x + ": " + got + " against " + want);
                    }
                }
            }
        }
    }

    private static float[] inputs(float from, float to, float... edges) {
        SplittableRandom random = new SplittableRandom(2);
        float[] x = new float[F.length() * 64];
        for (int i = 0; i < x.length; i++)
            x[i] = i < edges.length ? edges[i] : from + (float) random.nextDouble() * (to - from);
        return x;
    }

    @Test
    void expGivesEveryLaneTheScalarBitsWithinTwoUlps() {
        float inf = Float.POSITIVE_INFINITY;
        sameBitsAsScalar(
                BitExact::exp,
                x -> BitExact.exp((float) x),
                x -> x < -87.33f ? 0 : Math.exp(x),
                inputs(-90f, 88f, 0f, -0f, -1e-8f, -87.3f, -88f, -100f, -inf, Float.NaN, 88.3f, 1f, -1f),
                2);
    }

    @Test
    void tanhGivesEveryLaneTheScalarBitsWithinFewUlps() {
        float inf = Float.POSITIVE_INFINITY;
        sameBitsAsScalar(
                BitExact::tanh,
                x -> BitExact.tanh((float) x),
                Math::tanh,
                inputs(-6f, 6f, 0f, -0f, 1e-30f, 0.6249f, 0.625f, -0.625f, 9f, -20f, 100f, inf, -inf, Float.NaN),
                3);
    }
}
