package slim.nn.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import slim.nn.SlimException;
import slim.nn.io.Checkpoint;
import slim.nn.io.FloatType;
import slim.nn.io.SafeTensorsWriter;
import slim.nn.io.TensorInfo;
import slim.nn.kernels.CpuKernels;
import slim.nn.kernels.Kernels;

/** Loads the kept layers of a Hugging Face model folder, and writes a model back as one. */
public final class ModelFiles {

    /**
     * How to load a model.
     *
     * @param maxTokens   longest sequence (activations are sized for it); 0: the model's context
     * @param maxHeadRows most positions the LM head is evaluated at in one pass (1 for the study)
     * @param numLabels   rows of the `score` head; 0 none; -1 as many as the checkpoint's `score.weight` has
     * @param headSeed    seeds a new `score` head: normal(0, initializer_range), as Hugging Face does
     */
    public record Options(
            int maxTokens,
            int maxHeadRows,
            int numLabels,
            Pooling pooling,
            boolean trainable,
            long headSeed,
            Kernels kernels) {

        /** For inference on the CPU: the model's context, the LM head at one row, the checkpoint's own head. */
        public static Options inference() {
            return builder().build();
        }

        public static Builder builder() {
            return new Builder();
        }

        /** Options by name, starting from {@link #inference()}'s. */
        public static final class Builder {
            private int maxTokens, maxHeadRows = 1, numLabels = -1;
            private Pooling pooling = Pooling.LAST;
            private boolean trainable;
            private long headSeed;
            private Kernels kernels;

            public Builder maxTokens(int t) {
                maxTokens = t;
                return this;
            }

            public Builder headRows(int rows) {
                maxHeadRows = rows;
                return this;
            }

            /** A `score` head of this many labels (0 none, -1 the checkpoint's) reading pooling, seeded if new. */
            public Builder labels(int labels, Pooling p, long seed) {
                numLabels = labels;
                pooling = p;
                headSeed = seed;
                return this;
            }

            /** Allocate gradients and backward scratch. */
            public Builder trainable() {
                trainable = true;
                return this;
            }

            public Builder kernels(Kernels k) {
                kernels = k;
                return this;
            }

            public Options build() {
                return new Options(
                        maxTokens,
                        maxHeadRows,
                        numLabels,
                        pooling,
                        trainable,
                        headSeed,
                        kernels != null ? kernels : new CpuKernels());
            }
        }
    }

    /** Tensor-name prefixes the hub serves, per family, most common first. */
    private static final List<List<String>> PREFIXES = List.of(
            List.of("", "transformer."), // gpt2
            List.of("model.decoder.", "decoder.", ""), // opt
            List.of("model.", ""), // llama
            List.of("", "bert.")); // bert

    private static final String[] TOKENIZER_FILES = {
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.json",
        "merges.txt",
        "vocab.txt",
        "tokenizer.model",
        "generation_config.json"
    };

    private ModelFiles() {}

    /** Reads config.json and only the tensors of the first keep layers (plus embeddings, final norm, heads). */
    public static Model load(Path dir, int keep, Options options) {
        ModelConfig config = ModelConfig.read(dir);
        config.checkKeptLayers(keep);
        return load(dir, config, KeptLayers.first(keep), options);
    }

    /**
     * Reads config.json and only the tensors of the kept layers (plus embeddings, final norm,
     * heads); the model holds them as layers 0..n-1 and runs them in order, skipping the others.
     */
    public static Model load(Path dir, KeptLayers kept, Options options) {
        return load(dir, ModelConfig.read(dir), kept, options);
    }

    private static Model load(Path dir, ModelConfig config, KeptLayers kept, Options options) {
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            String prefix = prefix(config, ckpt);
            int labels = options.numLabels();
            boolean pooler = options.pooling() == Pooling.CLS_POOLER;
            String head = pooler ? ParamLayout.CLASSIFIER_TENSOR : ParamLayout.SCORE_TENSOR;
            if (labels < 0) labels = ckpt.has(head) ? (int) ckpt.info(head).shape()[0] : 0;
            ParamLayout layout = new ParamLayout(config, kept, labels, pooler, prefix);
            // Every shape against the config, and the memory against the heap, before the block is allocated:
            // a config that lies about its sizes gets a sentence, not an OutOfMemoryError.
            for (ParamLayout.Binding b : layout.bindings()) {
                if (!isNewHead(b, ckpt)) ckpt.check(b.tensor(), b.shape());
            }
            int maxTokens = options.maxTokens() > 0 ? options.maxTokens() : config.maxPositions();
            MemoryCheck.of(layout, maxTokens, options.maxHeadRows(), options.trainable())
                    .requireFits(dir);
            float[] block = new float[layout.size()];
            for (ParamLayout.Binding b : layout.bindings()) {
                if (isNewHead(b, ckpt)) {
                    initialiseHead(block, b, config.initializerRange(), options.headSeed());
                } else {
                    ckpt.read(b.tensor(), b.shape(), block, b.offset(), b.transposed());
                }
            }
            return new Model(
                    layout,
                    block,
                    options.kernels(),
                    maxTokens,
                    options.maxHeadRows(),
                    options.pooling(),
                    options.trainable());
        }
    }

    private static String prefix(ModelConfig config, Checkpoint ckpt) {
        String marker = new ParamLayout(config, KeptLayers.first(1), 0, "")
                .bindings()
                .getFirst()
                .tensor();
        for (String p : PREFIXES.get(config.family().ordinal())) {
            if (ckpt.has(p + marker)) return p;
        }
        throw new SlimException(ckpt.dir() + ": no tensor '" + marker + "' (under any of the prefixes "
                + PREFIXES.get(config.family().ordinal()) + "): is this a "
                + config.family().modelType() + " checkpoint?");
    }

    /** A classification head the checkpoint does not have yet: it starts as transformers would start it. */
    private static boolean isNewHead(ParamLayout.Binding b, Checkpoint ckpt) {
        return ParamLayout.isHead(b.tensor()) && !ckpt.has(b.tensor());
    }

    /** A new head as transformers initialises one: weights normal(0, initializer_range), biases zero. */
    private static void initialiseHead(float[] block, ParamLayout.Binding b, float std, long seed) {
        if (b.shape().length == 1) return;
        // The pooler draws from another stream than the classifier, which keeps the draws `score` always had.
        Random random = new Random(b.tensor().endsWith("pooler.dense.weight") ? ~seed : seed);
        for (int i = 0; i < b.length(); i++) block[b.offset() + i] = (float) (random.nextGaussian() * std);
    }

    /**
     * What {@link #prune} wrote.
     *
     * @param layout   the kept model's layout (its parameter count)
     * @param extra    tensors kept that slim does not compute with (BERT's pooler, a head), in their source dtype
     * @param leftOut  tensors of the kept part that are not floats (buffers transformers rebuilds), with their dtype
     */
    public record Pruned(ParamLayout layout, List<String> extra, List<String> leftOut) {}

    /**
     * Writes the kept layers of a Hugging Face folder as a new one: every float tensor of the checkpoint except
     * those of the cut blocks, each in its source dtype and under its source name (kept blocks renumbered
     * 0..n-1), config.json with the kept layer count, and the tokenizer files. Shapes of the tensors slim knows
     * are checked against the config.
     */
    public static Pruned prune(Path dir, KeptLayers kept, Path out) {
        ModelConfig config = ModelConfig.read(dir);
        kept.checkWithin(config);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            ParamLayout layout = new ParamLayout(config, kept, 0, prefix(config, ckpt));
            Map<String, long[]> known = new HashMap<>();
            for (ParamLayout.Binding b : layout.bindings())
                known.put(ckpt.info(b.tensor()).name(), b.shape());
            SafeTensorsWriter writer = new SafeTensorsWriter();
            List<String> extra = new ArrayList<>(), leftOut = new ArrayList<>();
            for (String name : ckpt.names()) {
                String renamed = renumbered(name, layout);
                if (renamed == null) continue;
                TensorInfo t = ckpt.info(name);
                FloatType type = FloatType.of(t.dtype());
                if (type == null) {
                    leftOut.add(name + " (" + t.dtype() + ")");
                    continue;
                }
                long[] shape = known.getOrDefault(name, t.shape());
                if (!known.containsKey(name)) extra.add(name);
                float[] values = new float[Math.toIntExact(t.elements())];
                ckpt.read(name, shape, values, 0, false);
                writer.add(renamed, type, shape, values, 0, false);
            }
            writeFolder(out, dir, config.prunedJson(kept), writer, Map.of());
            return new Pruned(layout, extra, leftOut);
        }
    }

    /** A tensor's name in the pruned checkpoint: its kept block renumbered; null when its block is cut. */
    private static String renumbered(String name, ParamLayout layout) {
        for (int l = layout.config().layers() - 1; l >= 0; l--) {
            String block = layout.blockPrefix(l);
            if (!name.startsWith(block)) continue;
            int i = layout.kept().indices().indexOf(l);
            return i < 0 ? null : layout.blockPrefix(i) + name.substring(block.length());
        }
        return name;
    }

    /**
     * Writes a model as a Hugging Face folder as {@link #save(Model, Path, ObjectNode, String, Path)} does, with
     * the source's config.json cut to the kept layers (and num_labels when it has a head) and the source's
     * tensor names.
     */
    public static void save(Model model, Path source, Path out) {
        ParamLayout layout = model.layout();
        ObjectNode config = layout.config().prunedJson(layout.kept());
        if (layout.numLabels() > 0) config.put("num_labels", layout.numLabels());
        save(model, source, config, layout.prefix(), out);
    }

    /**
     * Writes a trained model as a Hugging Face folder: the given config.json, model.safetensors with every
     * parameter as F32 (what training computed) under prefix (the one the transformers class named in the config
     * expects, e.g. "transformer." for GPT2ForSequenceClassification) with the kept layers renumbered 0..n-1, and
     * the source's tokenizer files.
     */
    public static void save(Model model, Path source, ObjectNode config, String prefix, Path out) {
        save(model, source, config, prefix, out, Map.of());
    }

    /**
     * Like the above, with more files (name to contents) written into the folder before it is renamed into place,
     * so that the folder appears whole with them or not at all.
     */
    public static void save(
            Model model, Path source, ObjectNode config, String prefix, Path out, Map<String, byte[]> extraFiles) {
        ParamLayout named = model.layout().renumbered().withPrefix(prefix);
        model.kernels().read(model.params().all);
        float[] block = model.params().block;
        SafeTensorsWriter writer = new SafeTensorsWriter();
        for (ParamLayout.Binding b : named.bindings()) {
            writer.add(b.tensor(), b.shape(), block, b.offset(), b.transposed());
        }
        config.put("torch_dtype", "float32");
        writeFolder(out, source, config, writer, extraFiles);
    }

    /**
     * Builds the folder beside out and renames it into place, so a failure leaves nothing half-written; an
     * existing non-empty out is refused.
     */
    private static void writeFolder(
            Path out, Path source, ObjectNode config, SafeTensorsWriter writer, Map<String, byte[]> extraFiles) {
        if (Files.exists(out) && !isEmptyDirectory(out)) {
            throw new SlimException(out + ": already exists and is not empty; choose a new folder");
        }
        Path parent = out.toAbsolutePath().getParent();
        Path tmp = parent.resolve(
                "." + out.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(tmp);
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(tmp.resolve("config.json").toFile(), config);
            writer.write(tmp.resolve(Checkpoint.SINGLE_FILE));
            for (String name : TOKENIZER_FILES) {
                Path f = source.resolve(name);
                if (Files.isRegularFile(f)) Files.copy(f, tmp.resolve(name));
            }
            for (Map.Entry<String, byte[]> extra : extraFiles.entrySet())
                Files.write(tmp.resolve(extra.getKey()), extra.getValue());
            if (Files.exists(out)) Files.delete(out);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new SlimException(out + ": cannot write the model: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    private static boolean isEmptyDirectory(Path p) {
        if (!Files.isDirectory(p)) return false;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // best effort: the temporary folder is hidden and named after this process
        }
    }
}
