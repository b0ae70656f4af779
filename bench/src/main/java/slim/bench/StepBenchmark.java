package slim.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import slim.nn.kernels.CpuKernels;

/**
 * The training step of {@link TrainingStep} against kept layers k, prompt length and head (last: the study's
 * step; all: a causal-LM step).
 */
public class StepBenchmark extends ModelBenchmark {

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
