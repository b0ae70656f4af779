package slim.tornado;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import slim.nn.Slice;
import slim.nn.kernels.CpuKernels;

/** The arena: buffers stay on the device between kernels, and come back only on read. */
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
    void arenaGrowsAndKeepsEveryBuffer() {
        TornadoKernels.releaseKeptPlan(); // a plan kept by another test could hold big without growing
        try (TornadoKernels k = new TornadoKernels()) {
            Slice x = Slice.allocate(100);
            x.fill(1f);
            k.add(x, x, x, 100); // 2 on the device
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

    @Test
    void matmulAndLossMatchTheCpu() {
        int T = 5, C = 19, OC = 23;
        Random r = new Random(1);
        float[] inp = new float[T * C], w = new float[OC * C], bias = new float[OC];
        for (int i = 0; i < inp.length; i++) inp[i] = r.nextFloat() - 0.5f;
        for (int i = 0; i < w.length; i++) w[i] = r.nextFloat() - 0.5f;
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
}
