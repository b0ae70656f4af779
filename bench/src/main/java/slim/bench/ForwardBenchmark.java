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
import slim.nn.kernels.CpuKernels;
import slim.nn.model.Rows;

/**
 * Forward latency of a first-k model (no gradients held) over a prompt of `tokens` tokens, with the
 * LM head at the last position (the last block computing that row only): what evaluating one prompt costs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx19g"})
public class ForwardBenchmark {

    @Param({"gpt2"})
    public String shape;

    @Param({"1", "6", "12"})
    public int k;

    @Param({"61", "131", "139", "317"})
    public int tokens;

    private BenchModel bench;
    private int[] last;

    @Setup(Level.Trial)
    public void setup() {
        bench = BenchModel.of(shape, k, tokens, 1, false, new CpuKernels());
        last = new int[] {tokens - 1};
    }

    @Benchmark
    public float forward() {
        bench.model.forward(bench.ids, Rows.all(tokens).lastRow());
        return bench.model.lmLogits(last, 1).get(0);
    }
}
