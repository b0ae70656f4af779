package slim.tornado;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import slim.nn.Slice;
import slim.nn.SlimException;
import slim.nn.kernels.AdamWSettings;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/** The arenas: buffers stay on the device between kernels, and come back only on read. */
class TornadoKernelsTest {

    @BeforeAll
    static void runtime() {
        String missing = TornadoRuntime.missing();
        assumeTrue(missing == null, () -> "skipped: " + missing);
    }

    @Test
    void resultsStayOnTheDeviceUntilRead() {
        try (TornadoKernels k = new TornadoKernels()) {
            int n = 1000;
            Slice a = Slice.allocate(n), b = Slice.allocate(n), out = Slice.allocate(n);
            for (int i = 0; i < n; i++) {
                a.set(i, i);
                b.set(i, 2 * i);
            }
            k.add(out, a, b, n);
            k.add(out, out, a, n); // reads the device's out, not the host's zeros
            assertEquals(0f, out.get(7), "the host copy is untouched before read");
            k.read(out.sub(0, 10));
            for (int i = 0; i < 10; i++) assertEquals(4f * i, out.get(i));
            assertEquals(0f, out.get(10), "only the slice read came back");
            long down = k.floatsDownloaded();
            assertEquals(10, down);

            b.set(3, 100f);
            k.write(b.sub(3, 1));
            k.add(out, a, b, n);
            k.read(out);
            assertEquals(103f, out.get(3));
            assertEquals(15f, out.get(5));
        }
    }

    @Test
    void largeBuffersTravelInBulkBothWays() {
        try (TornadoKernels k = new TornadoKernels()) {
            int n = 3 * DevicePlan.STAGING + 123;
            Slice big = Slice.allocate(n);
            for (int i = 0; i < n; i++) big.set(i, i);
            k.add(big, big, big, n); // placing it sends it (in bulk): the add reads what arrived
            k.read(big.sub(0, 1)); // runs the add
            long before = k.executions();
            k.read(big);
            assertEquals(1, k.executions() - before, "the whole read in one bulk execution, not four small ones");
            for (int i = 0; i < n; i++) assertEquals(2f * i, big.get(i), "float " + i);
        }
    }

    @Test
    void arenaGrowsAndKeepsEveryBuffer() {
        TornadoKernels.releaseKeptPlan(); // a plan kept by another test could hold big without growing
        try (TornadoKernels k = new TornadoKernels()) {
            Slice x = Slice.allocate(100);
            x.fill(1f);
            k.add(x, x, x, 100); // 2 on the device
            k.read(x.sub(0, 1)); // runs it: the first plan is built
            Slice big = Slice.allocate(3 << 20); // forces a larger arena
            k.copy(big, x, 100);
            k.read(big.sub(0, 100));
            k.read(x);
            float[] twos = new float[100];
            Arrays.fill(twos, 2f);
            assertArrayEquals(twos, x.toArray());
            assertArrayEquals(twos, big.sub(0, 100).toArray());
            assertEquals(2, k.plansBuilt());
        }
    }

    /**
     * A model's next instance (a grid's next cell) takes the plan its first one kept, compiled: here a model whose
     * weights are most of what it reserves, as GPT-2's are, at training's four floats per parameter.
     */
    @Test
    void theSameModelsNextInstanceTakesTheKeptPlan() {
        TornadoKernels.releaseKeptPlan();
        int C = 1024, OC = 2048, T = 4;
        Slice w = Slice.allocate(C * OC), inp = Slice.allocate(T * C), out = Slice.allocate(T * OC);
        inp.fill(1f);
        w.fill(0.5f);
        long reserved = 4L * C * OC + (1 << 21); // weights, their gradients and two moments, activations
        for (int instance = 0; instance < 2; instance++) {
            try (TornadoKernels k = new TornadoKernels()) {
                k.reserve(reserved);
                k.matmulForward(out, inp, w, null, T, C, OC);
                k.read(out);
                assertEquals(0.5f * C, out.get(T * OC - 1));
                assertEquals(instance == 0 ? 1 : 0, k.plansBuilt(), "plans built by instance " + instance);
            }
        }
    }

    @Test
    void aKeptPlanTooSmallIsFreedNotKeptBesideTheNewOne() {
        TornadoKernels.releaseKeptPlan();
        try (TornadoKernels small = new TornadoKernels()) {
            Slice x = Slice.allocate(10);
            small.zero(x, 10);
            small.read(x); // runs it: the first plan is built
        }
        assertTrue(TornadoKernels.hasKeptPlan(), "a closed instance keeps its plan");
        try (TornadoKernels big = new TornadoKernels()) {
            big.reserve(4L << 20); // more than the first one's arenas hold (1 Mi floats and a little)
            Slice x = Slice.allocate(100);
            big.zero(x, 100);
            assertFalse(TornadoKernels.hasKeptPlan(), "the kept plan, too small to take, was freed at once");
            big.read(x);
            assertEquals(1, big.plansBuilt());
        }
        assertTrue(TornadoKernels.hasKeptPlan(), "the second instance's plan is kept in its place");
    }

    @Test
    void eachArenaHoldsUpToItsLimitAndBeyondFailsClearly() {
        long limit = 2 << 20;
        TornadoDevice device = TornadoExecutionPlan.getDevice(0, 0);
        try (TornadoKernels k = new TornadoKernels(device, TornadoKernels.Target.CPU, limit)) {
            long all = DevicePlan.Bank.values().length * limit;
            SlimException announced = assertThrows(SlimException.class, () -> k.reserve(all + 1));
            assertTrue(announced.getMessage().contains(String.format("%,d floats", all + 1)), announced.getMessage());
            assertTrue(announced.getMessage().contains("--backend cpu"), announced.getMessage());
        }
        try (TornadoKernels k = new TornadoKernels(device, TornadoKernels.Target.CPU, limit)) {
            Slice x = Slice.allocate(3 << 19); // 1.5 Mi floats of activations
            x.fill(1f);
            k.add(x, x, x, 10);
            // 1.5 Mi floats more, as a weight gradient: the gradients' own arena holds them. Zeroed before its first
            // use names its arena (as zeroGrad does), the zero call waits for the place.
            Slice dw = Slice.allocate(3 << 19);
            dw.fill(5f);
            k.zero(dw, 8);
            k.matmulBackward(null, dw, null, x.sub(0, 2), x.sub(10, 4), null, 1, 4, 2, true);
            Slice y = Slice.allocate(1 << 20); // 2.5 Mi floats of activations in all: more than their arena
            SlimException placed = assertThrows(SlimException.class, () -> k.copy(y, x, 10));
            assertTrue(placed.getMessage().contains("activations need 2,621,440 floats"), placed.getMessage());
            SlimException role = assertThrows(SlimException.class, () -> k.add(x, x, dw, 10));
            assertTrue(role.getMessage().contains("placed among the parameter gradients"), role.getMessage());
            k.read(x.sub(0, 11));
            k.read(dw.sub(0, 9));
            assertEquals(2f, x.get(9), "the calls before the failures ran on the buffers placed");
            assertEquals(1f, x.get(10));
            for (int i = 0; i < 8; i++) assertEquals(2f, dw.get(i), "zeroed, then dw[o, c] += dout[o]·inp[c] = 2·1");
            assertEquals(5f, dw.get(8), "past the zeroed floats, the host's value as it was sent");
        }
    }

    @Test
    void matmulAndLossMatchTheCpu() {
        int T = 5, C = 19, OC = 23;
        Random r = new Random(1);
        float[] inp = random(r, T * C), w = random(r, OC * C), bias = new float[OC];
        for (int i = 0; i < bias.length; i++) bias[i] = r.nextFloat();
        float[] cpu = new float[T * OC], dev = new float[T * OC];
        CpuKernels c = new CpuKernels();
        c.matmulForward(Slice.of(cpu), Slice.of(inp), Slice.of(w), Slice.of(bias), T, C, OC);
        int[] targets = {1, 2, 3, 4, 5};
        float[] cpuLosses = new float[T], devLosses = new float[T];
        c.crossEntropyForward(Slice.of(cpuLosses), Slice.allocate(T * OC), Slice.of(cpu), targets, null, T, OC);
        try (TornadoKernels k = new TornadoKernels()) {
            k.matmulForward(Slice.of(dev), Slice.of(inp), Slice.of(w), Slice.of(bias), T, C, OC);
            k.crossEntropyForward(Slice.of(devLosses), Slice.allocate(T * OC), Slice.of(dev), targets, null, T, OC);
            k.read(Slice.of(dev));
            k.read(Slice.of(devLosses));
            assertArrayEquals(cpu, dev, 1e-5f);
            assertArrayEquals(cpuLosses, devLosses, 1e-5f);
        }
    }

    /**
     * Each way of splitting the work (a GPU's and a CPU device's kernels), on whatever device this is: the
     * matmul's forward and three gradients (and the input's, stored) against CpuKernels, at shapes that take every
     * kernel (rows, tiles, register blocks, column sums, partial sums over several parts) and leave partial blocks
     * at every edge.
     */
    @ParameterizedTest
    @EnumSource(TornadoKernels.Target.class)
    void everyMatmulKernelMatchesTheCpu(TornadoKernels.Target target) {
        int[][] shapes = {{5, 19, 23}, {1, 16, 1030}, {37, 21, 45}, {20, 24, 9}, {16, 64, 70}};
        for (int[] shape : shapes) {
            int T = shape[0], C = shape[1], OC = shape[2];
            Random r = new Random(T * 1000 + C);
            float[] inp = random(r, T * C), w = random(r, OC * C), bias = random(r, OC), dout = random(r, T * OC);
            float[][] cpu = matmulBothWays(new CpuKernels(), inp, w, bias, dout, T, C, OC);
            try (TornadoKernels k = new TornadoKernels(TornadoExecutionPlan.getDevice(0, 0), target)) {
                float[][] dev = matmulBothWays(k, inp, w, bias, dout, T, C, OC);
                String[] names = {"out", "dinp", "dw", "dbias", "dinp stored"};
                for (int i = 0; i < names.length; i++) {
                    assertArrayEquals(cpu[i], dev[i], 1e-4f, target + " " + names[i] + " at " + Arrays.toString(shape));
                }
            }
        }
    }

    /**
     * out, dinp, dw, dbias of one forward and backward (gradients accumulate onto ones), and an input gradient
     * stored over ones instead, read back.
     */
    private static float[][] matmulBothWays(
            Kernels k, float[] inp, float[] w, float[] bias, float[] dout, int T, int C, int OC) {
        Slice out = Slice.allocate(T * OC), dinp = Slice.allocate(T * C), dw = Slice.allocate(OC * C);
        Slice dbias = Slice.allocate(OC), stored = Slice.allocate(T * C);
        for (Slice s : new Slice[] {dinp, dw, dbias, stored}) s.fill(1f);
        k.matmulForward(out, Slice.of(inp), Slice.of(w), Slice.of(bias), T, C, OC);
        k.matmulBackward(dinp, dw, dbias, Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC, true);
        k.matmulBackward(stored, null, null, Slice.of(dout), Slice.of(inp), Slice.of(w), T, C, OC, false);
        Slice[] results = {out, dinp, dw, dbias, stored};
        for (Slice s : results) k.read(s);
        return Arrays.stream(results).map(Slice::toArray).toArray(float[][]::new);
    }

    /**
     * AdamW and AdamW over an outer product, three steps, against CpuKernels for each way of splitting the work: a
     * CPU device's runs of elements end mid-row and past the end (adamw), its runs of rows past the last row
     * (adamwOuterProduct), and its groups of eight leave elements to go one by one at each row's end (C = 300) or
     * none (C = 64).
     */
    @ParameterizedTest
    @EnumSource(TornadoKernels.Target.class)
    void adamwMatchesTheCpu(TornadoKernels.Target target) {
        for (int[] shape : new int[][] {{7, 300}, {37, 64}}) {
            int R = shape[0], C = shape[1];
            float[] params = random(new Random(C), R * C);
            AdamWSettings settings = AdamWSettings.torchDefaults(1e-2f);
            float[][] cpu = adamwSteps(new CpuKernels(), params, R, C, settings);
            try (TornadoKernels k = new TornadoKernels(TornadoExecutionPlan.getDevice(0, 0), target)) {
                float[][] dev = adamwSteps(k, params, R, C, settings);
                assertArrayEquals(cpu[0], dev[0], 1e-6f, target + " adamw, C = " + C);
                // Looser: the GPU kernel's g + d·inp is one fused multiply-add (TornadoVM fuses it), rounded once where
                // the CPU rounds the product first; where the two nearly cancel, AdamW's normalised step differs more.
                assertArrayEquals(cpu[1], dev[1], 1e-5f, target + " adamwOuterProduct, C = " + C);
            }
        }
    }

    /**
     * The parameters after three steps of adamw, and after three of adamwOuterProduct, each from the same start. Each
     * step draws its own gradients (the same ones on every backend): with one gradient every step, AdamW's update
     * would be its sign alone, and a gradient of the wrong size would pass.
     */
    private static float[][] adamwSteps(Kernels k, float[] params, int R, int C, AdamWSettings s) {
        int N = R * C;
        Slice plain = Slice.of(params.clone()), outer = Slice.of(params.clone());
        Slice m1 = Slice.allocate(N), v1 = Slice.allocate(N), m2 = Slice.allocate(N), v2 = Slice.allocate(N);
        for (int step = 1; step <= 3; step++) {
            Random r = new Random(31L * C + step);
            float[] grads = random(r, N);
            Slice dout = Slice.of(random(r, R)), inp = Slice.of(random(r, C));
            k.adamw(plain, Slice.of(grads.clone()), m1, v1, N, s, step);
            k.adamwOuterProduct(outer, Slice.of(grads), m2, v2, dout, inp, null, R, C, s, step);
        }
        k.read(plain);
        k.read(outer);
        return new float[][] {plain.toArray(), outer.toArray()};
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextFloat() - 0.5f;
        return a;
    }
}
