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

/**
 * The training step of {@link TrainingStep} against kept layers k, prompt length and head (last: the
 * study's step; all: a causal-LM step). The default tokens are the median prompt lengths of the four
 * tasks (PromptLengths): sst2 61, trec 131, emocontext 139, agnews 317.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx19g"})
public class StepBenchmark {

    @Param({"gpt2"})
    public String shape;

    @Param({"1", "6", "12"})
    public int k;

    @Param({"61", "131", "139", "317"})
    public int tokens;

    @Param({"last"})
    public String head;

    private TrainingStep step;

    @Setup(Level.Trial)
    public void setup() {
        step = new TrainingStep(shape, k, tokens, head, new CpuKernels());
    }

    @Benchmark
    public float trainStep() {
        return step.run();
    }
}
