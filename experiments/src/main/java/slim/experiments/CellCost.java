package slim.experiments;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import slim.data.Example;
import slim.data.PromptEncoder;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.data.Tokenizer;
import slim.nn.model.ModelConfig;

/**
 * A cell's estimated cost, known before it runs, for splitting a grid into shards that take about
 * the same time: (k + the embeddings and head, about one layer) x hidden² x mean prompt tokens x
 * (3 x training examples + validation examples) per epoch, a training step being about three forward
 * passes. The mean prompt length is measured by encoding the first training examples of seed 0's split
 * for each model, task and setting (demonstrations included), so it depends on nothing but the grid's
 * arguments and data: every task of a job array computes the same costs.
 */
public final class CellCost implements ToDoubleFunction<Cell> {
    /**
     * The embeddings, the head and AdamW over the word-embedding table, in layers: GPT2-XL's step takes
     * 417 ms with one layer and 198 ms more per layer (README), so the fixed part is about one layer.
     */
    static final double HEAD_LAYERS = 1;
    /** Prompts encoded per model, task and setting: enough for a mean, cheap for every task of an array. */
    static final int SAMPLE = 32;

    private record Key(Path model, Task task, Setting setting) {}

    private final Experiment experiment;
    private final Map<Key, Double> meanTokens = new HashMap<>();

    public CellCost(Experiment experiment) {
        this.experiment = experiment;
    }

    @Override
    public double applyAsDouble(Cell cell) {
        ModelConfig config = ModelConfig.read(cell.model());
        Protocol p = experiment.protocol();
        double examples = 3.0 * p.trainExamples() + p.valExamples();
        double layer = (double) config.hidden() * config.hidden();
        return (cell.keep() + HEAD_LAYERS) * layer * meanTokens(cell, config) * examples;
    }

    /** The mean prompt length in tokens of the cell's model, task and setting. */
    double meanTokens(Cell cell, ModelConfig config) {
        return meanTokens.computeIfAbsent(new Key(cell.model(), cell.task(), cell.setting()), key -> {
            Protocol p = experiment.protocol();
            Split split =
                    Split.make(experiment.dataset(key.task()), 0, p.trainExamples(), p.valExamples(), p.testExamples());
            List<Example> sample =
                    split.train().subList(0, Math.min(SAMPLE, split.train().size()));
            try (Tokenizer tokenizer = Tokenizer.load(key.model())) {
                PromptEncoder encoder = new PromptEncoder(
                        key.task(),
                        key.setting(),
                        tokenizer,
                        split.demonstrations(),
                        experiment.maxPromptTokens(config));
                return encoder.encodeAll(sample).stream()
                        .mapToInt(e -> e.ids().length)
                        .average()
                        .orElse(1);
            }
        });
    }
}
