package slim.experiments;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import slim.data.Example;
import slim.data.PromptEncoder;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.data.Tokenizer;
import slim.nn.SlimException;
import slim.nn.model.Family;
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
    public record Info(
            String task, String setting, String pooling, int maxPromptTokens, List<Demonstration> demonstrations) {}

    public record Demonstration(String text, int label) {}

    private final Model model;
    private final Classifier classifier;
    private final PromptEncoder encoder;
    private final Tokenizer tokenizer;
    private final Task task;
    private final int maxPromptTokens;

    private SavedModel(
            Model model,
            Classifier classifier,
            PromptEncoder encoder,
            Tokenizer tokenizer,
            Task task,
            int maxPromptTokens) {
        this.model = model;
        this.classifier = classifier;
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.task = task;
        this.maxPromptTokens = maxPromptTokens;
    }

    /** The prompt a saved model needs, for use outside slim: slim-prompt.json. */
    public record Prompt(
            String task,
            String setting,
            String format,
            List<String> labelWords,
            List<PromptDemonstration> demonstrations,
            String template,
            int maxPromptTokens,
            String note) {}

    public record PromptDemonstration(String text, String label, String labelWord) {}

    /**
     * Writes the fine-tuned model: a Hugging Face folder whose config.json names the transformers class that
     * computes exactly this head (and none where no class does), with id2label, label2id and pad_token_id;
     * slim.json for `slim predict`; slim-prompt.json with the prompt the model expects; a README.md where
     * transformers has no class for the head.
     */
    static void save(Model model, Cell cell, int maxPromptTokens, Split split, Path out) {
        List<Example> demos = cell.setting().hasDemonstrations() ? split.demonstrations() : List.of();
        Task task = cell.task();
        String template;
        int lastToken;
        try (Tokenizer tokenizer = Tokenizer.load(cell.model())) {
            PromptEncoder encoder = new PromptEncoder(task, cell.setting(), tokenizer, demos, maxPromptTokens);
            template = encoder.promptText(new Example("{text}", 0, -1));
            int[] ids = encoder.encode(new Example("a", 0, -1)).ids();
            lastToken = ids[ids.length - 1];
        }
        HubClass hub = HubClass.of(model, cell.setting());
        ObjectNode config = model.config().prunedJson(model.layout().kept());
        if (hub.name() != null) config.putArray("architectures").add(hub.name());
        else config.remove("architectures");
        if (model.layout().numLabels() > 0) {
            config.put("num_labels", task.numLabels());
            ObjectNode id2label = config.putObject("id2label"), label2id = config.putObject("label2id");
            for (int i = 0; i < task.numLabels(); i++) {
                id2label.put(Integer.toString(i), task.labels().get(i));
                label2id.put(task.labels().get(i), i);
            }
        }
        config.put("pad_token_id", padToken(model.config().json(), lastToken));
        List<Demonstration> kept =
                demos.stream().map(e -> new Demonstration(e.text(), e.label())).toList();
        // slim.json and the rest go into the folder before it is renamed into place: a save is whole or absent.
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(
                FILE,
                json(new Info(task.id(), cell.setting().id(), cell.pooling().id(), maxPromptTokens, kept)));
        List<PromptDemonstration> shown = demos.stream()
                .map(e -> new PromptDemonstration(
                        e.text(),
                        task.labels().get(e.label()),
                        task.labelWords().get(e.label())))
                .toList();
        files.put(
                PROMPT_FILE,
                json(new Prompt(
                        task.id(),
                        cell.setting().id(),
                        task.format,
                        task.labelWords(),
                        shown,
                        template,
                        maxPromptTokens,
                        "replace {text} in template with the input; a prompt over max_prompt_tokens tokens is"
                                + " shortened as in training (the demonstrations' texts cut from their ends, the"
                                + " longest first, then the input's text; `slim predict` does it and says so); "
                                + (cell.setting() == Setting.LM_PROMPT
                                        ? "the label is the label word with the highest next-token" + " logit"
                                        : "the head reads the "
                                                + (model.config().family().isDecoder()
                                                        ? "last token"
                                                        : "pooled" + " encoder output")))));
        if (hub.name() == null) files.put("README.md", readme(out, cell).getBytes(StandardCharsets.UTF_8));
        ModelFiles.save(model, cell.model(), config, hub.prefix(), out, files);
    }

    private static byte[] json(Object value) {
        try {
            return ResultFiles.JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // slim's own records always serialise
        }
    }

    public static final String PROMPT_FILE = "slim-prompt.json";

    /**
     * The transformers class that computes the saved head and the tensor-name prefix its checkpoints use; a null
     * name where no class computes it (a score head on the mean or the bare [CLS] of an encoder).
     */
    record HubClass(String name, String prefix) {
        static HubClass of(Model model, Setting setting) {
            Family family = model.config().family();
            String base = switch (family) {
                case GPT2 -> "GPT2";
                case OPT -> "OPT";
                case LLAMA -> "Llama";
                case BERT -> "Bert";
            };
            String prefix = switch (family) {
                case GPT2 -> "transformer.";
                case OPT -> "model.decoder.";
                case LLAMA -> "model.";
                case BERT -> "bert.";
            };
            if (setting == Setting.LM_PROMPT)
                return new HubClass(base + (family == Family.GPT2 ? "LMHeadModel" : "ForCausalLM"), prefix);
            if (family.isDecoder() || model.layout().pooler())
                return new HubClass(base + "ForSequenceClassification", prefix);
            return new HubClass(null, model.layout().prefix());
        }
    }

    /**
     * The pad token transformers' *ForSequenceClassification needs to find the last token: the config's, else
     * its eos or bos, whichever is not the token every prompt ends with (it would then read an earlier one).
     */
    static int padToken(JsonNode config, int lastToken) {
        for (String key : List.of("pad_token_id", "eos_token_id", "bos_token_id")) {
            JsonNode id = config.get(key);
            if (id != null && id.canConvertToInt() && id.intValue() != lastToken) return id.intValue();
        }
        return lastToken == 0 ? 1 : 0;
    }

    private static String readme(Path out, Cell cell) {
        String pooling = cell.pooling() == Pooling.MEAN
                ? "the mean of the final hidden states over all tokens"
                : "the final hidden state of the first token ([CLS]) as it is, without BERT's pooler";
        String text = "# A slim classifier without a transformers class\n\n"
                + "This " + cell.task().id() + " classifier was fine-tuned by `slim train` with `--pooling "
                + cell.pooling().id() + "`: its head `score.weight`"
                + " [num_labels, hidden] (no bias) reads " + pooling + ". No transformers class computes that head,"
                + " so config.json names none: `AutoModelForSequenceClassification` would load it with a new,"
                + " random head.\n\n"
                + "To use it: `slim predict " + out.getFileName() + " --task "
                + cell.task().id() + " \"text\"`, or in"
                + " PyTorch load the encoder with `AutoModel.from_pretrained(folder)` (it leaves `score.weight` out),"
                + " read `score.weight` from model.safetensors, and compute `logits = pooled @ score.weight.T` with"
                + " pooled = " + pooling + ". The labels are config.json's id2label; " + PROMPT_FILE + " has the"
                + " prompt the inputs were written in. `--pooling cls-pooler` trains BERT's own head, which loads"
                + " in BertForSequenceClassification.\n";
        return text;
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
        List<Example> demos = info.demonstrations().stream()
                .map(d -> new Example(d.text(), d.label(), -1))
                .toList();
        Tokenizer tokenizer = Tokenizer.load(dir);
        PromptEncoder encoder = new PromptEncoder(trained, setting, tokenizer, demos, info.maxPromptTokens());
        ModelConfig config = ModelConfig.read(dir);
        boolean lm = setting == Setting.LM_PROMPT;
        ModelFiles.Options options = ModelFiles.Options.builder()
                .maxTokens(Math.min(info.maxPromptTokens(), config.maxPositions()))
                .labels(lm ? 0 : -1, Pooling.parse(info.pooling()), 0)
                .build();
        Model model = ModelFiles.load(dir, config.layers(), options);
        if (!lm && model.layout().numLabels() != trained.numLabels()) {
            throw new SlimException(
                    dir + ": the score head has " + model.layout().numLabels() + " rows; " + trained.id() + " has "
                            + trained.numLabels() + " labels");
        }
        Classifier classifier = new Classifier(model, lm ? encoder.labelTokens().targets() : null, false);
        return new SavedModel(model, classifier, encoder, tokenizer, trained, info.maxPromptTokens());
    }

    public Task task() {
        return task;
    }

    /**
     * A text's answer.
     *
     * @param probabilities each label's probability, in the task's label order
     * @param shortened     whether the prompt was over the limit the model was trained with, and was shortened
     *                      as in training
     */
    public record Answer(float[] probabilities, boolean shortened) {}

    /** The answer for the text. */
    public Answer classify(String text) {
        int before = encoder.shortened();
        var ids = encoder.encode(new Example(text, 0, -1)).ids();
        float[] p = new float[task.numLabels()];
        classifier.probabilities(ids, p);
        return new Answer(p, encoder.shortened() > before);
    }

    /** The longest prompt, in tokens, that the model was trained with; longer ones are shortened. */
    public int maxPromptTokens() {
        return maxPromptTokens;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
