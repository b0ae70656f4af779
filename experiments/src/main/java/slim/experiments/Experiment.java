package slim.experiments;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import slim.data.Dataset;
import slim.data.Datasets;
import slim.data.EncodedExample;
import slim.data.PromptEncoder;
import slim.data.Setting;
import slim.data.Split;
import slim.data.Task;
import slim.data.Tokenizer;
import slim.nn.SlimException;
import slim.nn.kernels.AdamWSettings;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;
import slim.nn.model.KeptLayers;
import slim.nn.model.LayerScores;
import slim.nn.model.Model;
import slim.nn.model.ModelConfig;
import slim.nn.model.ModelFiles;
import slim.nn.model.ParamLayout;
import slim.nn.model.Pooling;
import slim.nn.optim.AdamW;

/**
 * Runs cells end to end: draws the seed's split, encodes the prompts, chooses the kept layers (the
 * first k, a given set, or by the scores of the full model on the cell's training prompts), loads
 * them (sized for the longest prompt, with a fresh `score` head seeded from the cell's seed in the
 * cls settings), trains, and returns the result. Datasets are read once per experiment and shared
 * by its cells, and so are layer scores, which depend on the prompts but not on k.
 */
public final class Experiment {
    private final Path dataDir;
    private final Protocol protocol;
    private final Map<Task, Dataset> datasets;
    /** Makes each cell's kernel set: the backend the cells run on. */
    private final Supplier<Kernels> kernels;
    /** Layer scores by the prompts they were computed on: model, task, setting, seed and protocol. */
    private final Map<List<Object>, LayerScores> scores;
    /** Origins by model folder and task: a model's fingerprint and a task's data files are hashed once. */
    private final Map<List<Object>, Origin> origins;

    public Experiment(Path dataDir, Protocol protocol) {
        this(dataDir, protocol, new EnumMap<>(Task.class), CpuKernels::new, new HashMap<>(), new HashMap<>());
    }

    private Experiment(
            Path dataDir,
            Protocol protocol,
            Map<Task, Dataset> datasets,
            Supplier<Kernels> kernels,
            Map<List<Object>, LayerScores> scores,
            Map<List<Object>, Origin> origins) {
        this.dataDir = dataDir;
        this.protocol = protocol;
        this.datasets = datasets;
        this.kernels = kernels;
        this.scores = scores;
        this.origins = origins;
    }

    /** The same data (read once) under another protocol. */
    public Experiment with(Protocol other) {
        return new Experiment(dataDir, other, datasets, kernels, scores, origins);
    }

    /** The same experiment with its cells on another backend. */
    public Experiment on(Supplier<Kernels> backend) {
        return new Experiment(dataDir, protocol, datasets, backend, scores, origins);
    }

    /** What the cell's result is made from: its model's identity and its task's data files (hashed once). */
    public Origin origin(Cell cell) {
        List<Object> key = List.of(cell.model().toAbsolutePath().normalize(), cell.task());
        return origins.computeIfAbsent(key, k -> Origin.of(cell.model(), dataset(cell.task())));
    }

    public Protocol protocol() {
        return protocol;
    }

    /** Reads the task's data now, so a missing file is reported before any cell runs. */
    public Dataset dataset(Task task) {
        return datasets.computeIfAbsent(task, t -> Datasets.load(dataDir, t));
    }

    /** A cell's prompts, encoded, with what the run needs to know about them. */
    record Prepared(
            Split split,
            List<EncodedExample> train,
            List<EncodedExample> val,
            List<EncodedExample> test,
            int[] labelTokens,
            int[] appended,
            int longest,
            int shortened) {}

    Prepared prepare(Cell cell, Tokenizer tokenizer, int maxPromptTokens) {
        Split split = Split.make(
                dataset(cell.task()),
                cell.seed(),
                protocol.trainExamples(),
                protocol.valExamples(),
                protocol.testExamples());
        PromptEncoder encoder =
                new PromptEncoder(cell.task(), cell.setting(), tokenizer, split.demonstrations(), maxPromptTokens);
        List<EncodedExample> train = encoder.encodeAll(split.train());
        List<EncodedExample> val = encoder.encodeAll(split.val());
        List<EncodedExample> test = encoder.encodeAll(split.test());
        int longest = 0;
        for (List<EncodedExample> part : List.of(train, val, test)) {
            for (EncodedExample e : part) longest = Math.max(longest, e.ids().length);
        }
        var labels = encoder.labelTokens();
        return new Prepared(
                split,
                train,
                val,
                test,
                labels == null ? null : labels.targets(),
                labels == null ? null : labels.appended(),
                longest,
                encoder.shortened());
    }

    /** The prompt-length limit for a model: the protocol's, never beyond the model's context. */
    int maxPromptTokens(ModelConfig config) {
        int context = config.maxPositions();
        return protocol.maxPromptTokens() > 0 ? Math.min(protocol.maxPromptTokens(), context) : context;
    }

    /** Trains and evaluates one cell. */
    public Result run(Cell cell, Trainer.Listener listener) {
        return run(cell, listener, null, r -> {});
    }

    /**
     * Trains and evaluates one cell; saveTo (nullable) receives the fine-tuned model when training succeeds.
     * keepResult gets the result before the model is saved, so a save that fails (a full disk) loses no result.
     */
    public Result run(Cell cell, Trainer.Listener listener, Path saveTo, Consumer<Result> keepResult) {
        long start = System.nanoTime();
        Instant started = Instant.now();
        cell.validate();
        ModelConfig config = ModelConfig.read(cell.model());
        boolean lm = cell.setting() == Setting.LM_PROMPT;
        Prepared p;
        int maxPrompt = maxPromptTokens(config);
        try (Tokenizer tokenizer = Tokenizer.load(cell.model())) {
            p = prepare(cell, tokenizer, maxPrompt);
        }
        LayerScores layerScores = cell.layers().needsScores() ? layerScores(cell, p.train()) : null;
        KeptLayers kept = cell.layers().kept(layerScores);
        Memory.requireFits(
                cell.model(),
                config,
                kept,
                lm ? 0 : cell.task().numLabels(),
                cell.pooling() == Pooling.CLS_POOLER,
                p.longest());
        Memory.resetPeaks();
        // The cell's kernels are closed when it ends: a device backend's memory is released or kept for the next
        // cell (TornadoKernels keeps its compiled plan), not left behind by every cell of a grid.
        try (Kernels cellKernels = kernels.get()) {
            ModelFiles.Options options = ModelFiles.Options.builder()
                    .trainable()
                    .maxTokens(p.longest())
                    .headRows(1)
                    .labels(lm ? 0 : cell.task().numLabels(), cell.pooling(), cell.seed())
                    .kernels(cellKernels)
                    .build();
            Model model = ModelFiles.load(cell.model(), kept, options);
            AdamW optimizer = new AdamW(
                    model, AdamWSettings.torchDefaults(protocol.lr()).withWeightDecay(protocol.weightDecay()));
            if (protocol.freezeEmbeddings()) optimizer.freezeLeading(wordEmbeddings(model.layout()));
            Classifier classifier = new Classifier(model, p.labelTokens(), protocol.labelWordsLoss());
            Trainer.Outcome o = new Trainer(model, classifier, optimizer, protocol)
                    .fit(p.train(), p.val(), p.test(), cell.seed(), listener);

            long headParams = lm ? 0 : (long) cell.task().numLabels() * config.embedDim();
            double wall = (System.nanoTime() - start) / 1e9;
            var prompts = new Result.Prompts(
                    p.split().rows(),
                    p.labelTokens(),
                    p.appended(),
                    p.longest(),
                    p.shortened(),
                    o.prefixTokens(),
                    maxPrompt);
            var curves = Result.Curves.of(o, majority(p.test(), cell.task().numLabels()));
            var costs = Result.Costs.measured(model.parameterCount(), headParams, wall, o);
            var answers = o.failed() ? null : new Result.Answers(o.valPredictions(), o.testPredictions());
            Result result = Result.of(
                    Result.CellInfo.of(cell, config, kept),
                    protocol,
                    origin(cell),
                    o.failure(),
                    Result.RunInfo.since(started, cellKernels.name()),
                    prompts,
                    curves,
                    costs,
                    layerScores,
                    answers);
            keepResult.accept(result);
            if (saveTo != null && !o.failed()) SavedModel.save(model, cell, maxPrompt, p.split(), saveTo);
            return result;
        }
    }

    /**
     * The layer scores of the cell's model at full depth over the cell's training prompts (the
     * seed's split under this protocol; never validation or test), forward passes only.
     */
    public LayerScores layerScores(Cell cell) {
        ModelConfig config = ModelConfig.read(cell.model());
        try (Tokenizer tokenizer = Tokenizer.load(cell.model())) {
            return layerScores(
                    cell, prepare(cell, tokenizer, maxPromptTokens(config)).train());
        }
    }

    private LayerScores layerScores(Cell cell, List<EncodedExample> train) {
        List<Object> key =
                List.of(cell.model().toAbsolutePath().normalize(), cell.task(), cell.setting(), cell.seed(), protocol);
        return scores.computeIfAbsent(key, k -> {
            int layers = ModelConfig.read(cell.model()).layers();
            int longest = train.stream().mapToInt(e -> e.ids().length).max().orElse(1);
            try (Kernels scoreKernels = kernels.get()) {
                ModelFiles.Options options = ModelFiles.Options.builder()
                        .maxTokens(longest)
                        .labels(0, cell.pooling(), 0)
                        .kernels(scoreKernels)
                        .build();
                Model full = ModelFiles.load(cell.model(), layers, options);
                LayerScores.Accumulator sum = new LayerScores.Accumulator(layers);
                try (Kernels.Fixed _ = scoreKernels.weightsFixed()) { // forward passes only: weights unchanged
                    for (EncodedExample e : train) {
                        full.forward(e.ids(), e.ids().length);
                        sum.add(full, e.ids().length);
                    }
                }
                return sum.scores();
            }
        });
    }

    /** How many leading parameters the word-embedding table takes (it is first in every family's layout). */
    static int wordEmbeddings(ParamLayout layout) {
        ParamLayout.Entry wte = layout.entries().get("wte");
        if (wte == null || wte.offset() != 0) {
            throw new SlimException(layout.config().file()
                    + ": the word embeddings are not first in the parameter block; cannot freeze them");
        }
        return wte.length();
    }

    static double majority(List<EncodedExample> examples, int numLabels) {
        int[] counts = new int[numLabels];
        for (EncodedExample e : examples) counts[e.label()]++;
        int most = 0;
        for (int c : counts) most = Math.max(most, c);
        return examples.isEmpty() ? 0 : (double) most / examples.size();
    }

    /**
     * The study's cells of the cross product, in a fixed order (model, k, task, setting, seed), each validated
     * so that a bad one is refused before any runs. lm-prompt is left out for encoders, which have no
     * LM head.
     */
    public static List<Cell> crossProduct(
            List<Path> models,
            List<Integer> ks,
            List<Task> tasks,
            List<Setting> settings,
            List<Integer> seeds,
            Pooling encoderPooling) {
        return cells(models, ks.stream().map(LayerChoice::first).toList(), tasks, settings, seeds, encoderPooling);
    }

    /** The same cross product over any layer choices (k by a selection, or given sets) in place of k. */
    public static List<Cell> cells(
            List<Path> models,
            List<LayerChoice> choices,
            List<Task> tasks,
            List<Setting> settings,
            List<Integer> seeds,
            Pooling encoderPooling) {
        List<Cell> cells = new ArrayList<>();
        for (Path m : models) {
            boolean decoder = ModelConfig.read(m).family().isDecoder();
            for (LayerChoice k : choices) {
                for (Task t : tasks) {
                    for (Setting s : settings) {
                        if (s == Setting.LM_PROMPT && !decoder) continue;
                        for (int seed : seeds) {
                            Cell c = Cell.of(m, k, t, s, seed, encoderPooling);
                            c.validate();
                            cells.add(c);
                        }
                    }
                }
            }
        }
        return cells;
    }
}
