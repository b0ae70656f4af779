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
import slim.nn.model.Model;
import slim.nn.optim.AdamW;

/**
 * One training step of a first-k model, as fine-tuning runs it: forward over a prompt of `tokens`
 * tokens, the LM head and cross-entropy over the whole vocabulary, backward, AdamW over every
 * parameter (embeddings included), which leaves the gradients zero for the next step (zeroGrad
 * then has nothing to do, as in the Trainer).
 *
 * <p>head=last is the study's step (the label is read at the last position only); head=all is a
 * causal-LM step (the head and loss at every position), the work PyTorch/Hugging Face do by default.
 * The default tokens are the median prompt lengths of the four tasks (PromptLengths): sst2 61,
 * trec 131, emocontext 139, agnews 317.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx19g"})
public class StepBenchmark {

    @Param({"gpt2"})
    public String shape;

    @Param({"1", "6", "12"})
    public int k;

    @Param({"61", "131", "139", "317"})
    public int tokens;

    @Param({"last"})
    public String head;

    private Model model;
    private AdamW optimizer;
    private int[] ids, rows, targets;

    @Setup(Level.Trial)
    public void setup() {
        boolean all = switch (head) {
            case "last" -> false;
            case "all" -> true;
            default -> throw new IllegalArgumentException("head must be last or all, not " + head);
        };
        int n = all ? tokens : 1;
        BenchModel bench = BenchModel.of(shape, k, tokens, n, true);
        model = bench.model;
        ids = bench.ids;
        optimizer = AdamW.withDefaults(model, 1e-5f);
        rows = new int[n];
        targets = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = all ? i : tokens - 1;
            targets[i] = ids[rows[i] + 1];
        }
    }

    @Benchmark
    public float trainStep() {
        model.forward(ids, tokens);
        model.lmLogits(rows, rows.length);
        float loss = model.loss(targets, null);
        model.backward();
        optimizer.step();
        model.zeroGrad();
        return loss;
    }
}
