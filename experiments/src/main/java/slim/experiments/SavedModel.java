package slim.experiments;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import slim.data.Example;
import slim.data.PromptEncoder;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.data.Tokenizer;
import slim.nn.SlimException;
import slim.nn.model.Model;
import slim.nn.model.ModelConfig;
import slim.nn.model.ModelFiles;
import slim.nn.model.Pooling;

/**
 * A fine-tuned, pruned model kept for use: a Hugging Face folder (config.json with the kept layers,
 * model.safetensors with the `score` head where there is one, the tokenizer files) plus slim.json,
 * which says how its inputs are built: the task, the setting, the pooling and the demonstrations of
 * the prompt settings.
 */
public final class SavedModel implements AutoCloseable {
    public static final String FILE = "slim.json";

    /** The contents of slim.json. */
    public record Info(String task, String setting, String pooling, int maxPromptTokens, List<Demonstration> demonstrations) {}

    public record Demonstration(String text, int label) {}

    private final Model model;
    private final Classifier classifier;
    private final PromptEncoder encoder;
    private final Tokenizer tokenizer;
    private final Task task;

    private SavedModel(Model model, Classifier classifier, PromptEncoder encoder, Tokenizer tokenizer, Task task) {
        this.model = model;
        this.classifier = classifier;
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.task = task;
    }

    static void save(Model model, Cell cell, int maxPromptTokens, Split split, Path out) {
        ModelFiles.save(model, cell.model(), out);
        List<Demonstration> demos = cell.setting().hasDemonstrations()
                ? split.demonstrations().stream().map(e -> new Demonstration(e.text(), e.label())).toList()
                : List.of();
        ResultFiles.write(out.resolve(FILE), new Info(cell.task().id(), cell.setting().id(),
                cell.pooling().id(), maxPromptTokens, demos));
    }

    /** Opens a folder written by `slim train --save`, for the given task (checked against slim.json). */
    public static SavedModel open(Path dir, Task task) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new SlimException(file + ": missing; predict needs a folder written by `slim train --save`");
        }
        Info info;
        try {
            info = ResultFiles.JSON.readValue(file.toFile(), Info.class);
        } catch (IOException e) {
            throw new SlimException(file + ": not valid: " + e.getMessage(), e);
        }
        Task trained = Task.parse(info.task());
        if (task != null && task != trained) {
            throw new SlimException(dir + ": this model was fine-tuned for " + trained.id() + ", not " + task.id());
        }
        Setting setting = Setting.parse(info.setting());
        List<Example> demos = info.demonstrations().stream().map(d -> new Example(d.text(), d.label(), -1)).toList();
        Tokenizer tokenizer = Tokenizer.load(dir);
        PromptEncoder encoder = new PromptEncoder(trained, setting, tokenizer, demos, info.maxPromptTokens());
        ModelConfig config = ModelConfig.read(dir);
        boolean lm = setting == Setting.LM_PROMPT;
        ModelFiles.Options options = ModelFiles.Options.builder().maxTokens(Math.min(info.maxPromptTokens(), config.maxPositions())).labels(lm ? 0 : -1, Pooling.parse(info.pooling()), 0).build();
        Model model = ModelFiles.load(dir, config.layers(), options);
        if (!lm && model.layout().numLabels() != trained.numLabels()) {
            throw new SlimException(dir + ": the score head has " + model.layout().numLabels() + " rows; "
                    + trained.id() + " has " + trained.numLabels() + " labels");
        }
        Classifier classifier = new Classifier(model, lm ? encoder.labelTokens().targets() : null, false);
        return new SavedModel(model, classifier, encoder, tokenizer, trained);
    }

    public Task task() {
        return task;
    }

    /** The probability of each label for the text. */
    public float[] classify(String text) {
        var ids = encoder.encode(new Example(text, 0, -1)).ids();
        float[] p = new float[task.numLabels()];
        classifier.probabilities(ids, p);
        return p;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
