package slim.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the whole-model benchmarks (ForwardBenchmark, StepBenchmark) share: JMH's settings and their parameters,
 * a model shape, the kept layers k and the prompt length. The default tokens are the median prompt lengths of the
 * four tasks (PromptLengths): sst2 61, trec 131, emocontext 139, agnews 317.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx19g"})
public abstract class ModelBenchmark {

    @Param({"gpt2"})
    public String shape;

    @Param({"1", "6", "12"})
    public int k;

    @Param({"61", "131", "139", "317"})
    public int tokens;
}
