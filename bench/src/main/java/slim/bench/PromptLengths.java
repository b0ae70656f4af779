package slim.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import slim.data.Dataset;
import slim.data.Datasets;
import slim.data.Example;
import slim.data.PromptEncoder;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.data.Tokenizer;

/**
 * The token counts of the study's prompts (lm-prompt: one demonstration per class, then the query)
 * with GPT-2's tokenizer, over the train, validation and test examples of seed 0's split: the
 * sequence lengths the step benchmarks run at.
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar slim.bench.PromptLengths [shared-dir]}
 */
public final class PromptLengths {

    public static void main(String[] args) {
        Path shared = Path.of(args.length > 0 ? args[0] : "../shared");
        try (Tokenizer tokenizer = Tokenizer.load(shared.resolve("tokenizers/gpt2"))) {
            System.out.println("| task | prompts | median | p95 | max |");
            System.out.println("|---|---:|---:|---:|---:|");
            for (Task task : Task.values()) {
                Dataset data = Datasets.load(shared.resolve("datasets"), task);
                Split split = Split.study(data, 0);
                PromptEncoder encoder =
                        new PromptEncoder(task, Setting.LM_PROMPT, tokenizer, split.demonstrations(), 1024);
                List<Example> all = new ArrayList<>(split.train());
                all.addAll(split.val());
                all.addAll(split.test());
                int[] lengths = all.stream()
                        .mapToInt(e -> encoder.encode(e).ids().length)
                        .sorted()
                        .toArray();
                System.out.printf(
                        "| %s | %d | %d | %d | %d |%n",
                        task.id(),
                        lengths.length,
                        percentile(lengths, 50),
                        percentile(lengths, 95),
                        lengths[lengths.length - 1]);
            }
        }
    }

    /** Nearest-rank percentile of sorted values. */
    static int percentile(int[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
