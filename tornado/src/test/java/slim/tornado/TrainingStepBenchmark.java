package slim.tornado;

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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import slim.nn.Shared;
import slim.nn.SlimException;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;
import slim.nn.model.Model;
import slim.nn.model.ModelFiles;
import slim.nn.model.Pooling;
import slim.nn.optim.AdamW;

/**
 * One training step (zero grads, forward over `tokens` tokens, last-token LM loss, backward, AdamW)
 * of stories260K with its first `keep` layers, on the CPU kernels and on the TornadoVM kernels. The
 * fork needs TornadoVM's runtime: run with {@code -jvmArgsPrepend @$TORNADOVM_HOME/tornado-argfile}
 * (tornado/README.md). After each trial the TornadoVM side prints its graph runs and transfers per step.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainingStepBenchmark {

    @Param({"cpu", "tornado"})
    public String backend;

    @Param({"1", "2", "3", "4", "5"})
    public int keep;

    @Param({"32"})
    public int tokens;

    private Kernels kernels;
    private Model model;
    private AdamW optimizer;
    private int[] ids, target;
    private long steps, executions, uploaded, downloaded;

    @Setup(Level.Trial)
    public void setup() {
        if (backend.equals("tornado")) {
            String missing = TornadoRuntime.missing();
            if (missing != null) throw new SlimException(missing);
            kernels = new TornadoKernels();
        } else {
            kernels = new CpuKernels();
        }
        model = ModelFiles.load(
                Shared.resolve("models", "stories260K"),
                keep,
                ModelFiles.Options.builder()
                        .trainable()
                        .maxTokens(tokens)
                        .headRows(1)
                        .labels(0, Pooling.LAST, 0)
                        .kernels(kernels)
                        .build());
        optimizer = AdamW.withDefaults(model, 1e-4f);
        ids = new int[tokens];
        for (int t = 0; t < tokens; t++)
            ids[t] = 1 + (t * 7919) % (model.config().vocab() - 1);
        target = new int[] {ids[0]};
    }

    @Setup(Level.Iteration)
    public void countFromHere() {
        steps = 0;
        if (kernels instanceof TornadoKernels device) {
            executions = device.executions();
            uploaded = device.floatsUploaded();
            downloaded = device.floatsDownloaded();
        }
    }

    @Benchmark
    public float step() {
        model.zeroGrad();
        model.forward(ids, tokens);
        model.lmLogits(new int[] {tokens - 1}, 1);
        float loss = model.loss(target, null);
        model.backward();
        optimizer.step();
        steps++;
        return loss;
    }

    @TearDown(Level.Iteration)
    public void report() {
        if (kernels instanceof TornadoKernels device && steps > 0) {
            System.out.printf(
                    "  [tornado k=%d] per step: %d graph runs, %d floats in, %d floats out%n",
                    keep,
                    (device.executions() - executions) / steps,
                    (device.floatsUploaded() - uploaded) / steps,
                    (device.floatsDownloaded() - downloaded) / steps);
        }
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        if (kernels instanceof AutoCloseable c) c.close();
    }
}
