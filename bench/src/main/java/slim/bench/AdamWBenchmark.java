package slim.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import slim.nn.Slice;
import slim.nn.kernels.AdamWSettings;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;

/**
 * One AdamW update over `params` parameters: it reads parameter, gradient and both moments and
 * writes back parameter and moments, 28 bytes per parameter; run.py reports 28·N / time as GB/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class AdamWBenchmark {

    /** GPT-2 small's parameter count (with its untied-size head counted once). */
    @Param({"124439808"})
    public int params;

    private static final AdamWSettings SETTINGS = AdamWSettings.torchDefaults(1e-5f);
    private final Kernels kernels = new CpuKernels();
    private Slice p, g, m, v;
    private int step;

    @Setup(Level.Trial)
    public void setup() {
        p = Slice.allocate(params);
        g = Slice.allocate(params);
        m = Slice.allocate(params);
        v = Slice.allocate(params);
        for (int i = 0; i < params; i++) {
            p.set(i, (i % 97) * 1e-3f);
            g.set(i, ((i % 31) - 15) * 1e-4f);
        }
    }

    @Benchmark
    public Slice step() {
        kernels.adamw(p, g, m, v, params, SETTINGS, ++step);
        return p;
    }
}
