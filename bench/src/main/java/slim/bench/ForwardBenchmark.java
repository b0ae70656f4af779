package slim.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import slim.nn.kernels.CpuKernels;
import slim.nn.model.Rows;

/**
 * Forward latency of a first-k model (no gradients held) over a prompt of `tokens` tokens, with the
 * LM head at the last position (the last block computing that row only): what evaluating one prompt costs.
 */
public class ForwardBenchmark extends ModelBenchmark {

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
