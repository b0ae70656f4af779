package slim.nn.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Random;
import slim.nn.SlimException;
import slim.nn.io.Checkpoint;
import slim.nn.io.SafeTensorsWriter;
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
    public record Options(int maxTokens, int maxHeadRows, int numLabels, Pooling pooling, boolean trainable,
                          long headSeed, Kernels kernels) {

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
                return new Options(maxTokens, maxHeadRows, numLabels, pooling, trainable, headSeed,
                        kernels != null ? kernels : new CpuKernels());
            }
        }
    }

    /** Tensor-name prefixes the hub serves, per family, most common first. */
    private static final List<List<String>> PREFIXES = List.of(
            List.of("", "transformer."),                 // gpt2
            List.of("model.decoder.", "decoder.", ""),   // opt
            List.of("model.", ""),                       // llama
            List.of("", "bert."));                       // bert

    private static final String[] TOKENIZER_FILES = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "vocab.json", "merges.txt", "vocab.txt", "tokenizer.model", "generation_config.json"};

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
            if (labels < 0) {
                labels = ckpt.has(ParamLayout.SCORE_TENSOR) ? (int) ckpt.info(ParamLayout.SCORE_TENSOR).shape()[0] : 0;
            }
            ParamLayout layout = new ParamLayout(config, kept, labels, prefix);
            // Every shape against the config, and the memory against the heap, before the block is allocated:
            // a config that lies about its sizes gets a sentence, not an OutOfMemoryError.
            for (ParamLayout.Binding b : layout.bindings()) {
                if (!isNewHead(b, ckpt)) ckpt.check(b.tensor(), b.shape());
            }
            int maxTokens = options.maxTokens() > 0 ? options.maxTokens() : config.maxPositions();
            MemoryCheck.of(layout, maxTokens, options.maxHeadRows(), options.trainable()).requireFits(dir);
            float[] block = new float[layout.size()];
            for (ParamLayout.Binding b : layout.bindings()) {
                if (isNewHead(b, ckpt)) {
                    initialiseHead(block, b, config.initializerRange(), options.headSeed());
                } else {
                    ckpt.read(b.tensor(), b.shape(), block, b.offset(), b.transposed());
                }
            }
            return new Model(layout, block, options.kernels(), maxTokens, options.maxHeadRows(), options.pooling(),
                    options.trainable());
        }
    }

    private static String prefix(ModelConfig config, Checkpoint ckpt) {
        String marker = new ParamLayout(config, KeptLayers.first(1), 0, "").bindings().getFirst().tensor();
        for (String p : PREFIXES.get(config.family().ordinal())) {
            if (ckpt.has(p + marker)) return p;
        }
        throw new SlimException(ckpt.dir() + ": no tensor '" + marker + "' (under any of the prefixes "
                + PREFIXES.get(config.family().ordinal()) + "): is this a " + config.family().modelType() + " checkpoint?");
    }

    /** A classification head the checkpoint does not have yet: it starts from random values. */
    private static boolean isNewHead(ParamLayout.Binding b, Checkpoint ckpt) {
        return b.tensor().equals(ParamLayout.SCORE_TENSOR) && !ckpt.has(b.tensor());
    }

    private static void initialiseHead(float[] block, ParamLayout.Binding b, float std, long seed) {
        Random random = new Random(seed);
        for (int i = 0; i < b.length(); i++) block[b.offset() + i] = (float) (random.nextGaussian() * std);
    }

    /**
     * Writes the model as a Hugging Face folder: config.json with the kept layer count (and
     * num_labels when it has a `score` head), model.safetensors under the source's tensor names
     * with the kept layers renumbered 0..n-1, and the source's tokenizer files. The folder is
     * built beside out and renamed into place, so a failure leaves nothing half-written; an
     * existing non-empty out is refused.
     */
    public static void save(Model model, Path source, Path out) {
        ParamLayout layout = model.layout().renumbered();
        if (Files.exists(out) && !isEmptyDirectory(out)) {
            throw new SlimException(out + ": already exists and is not empty; choose a new folder");
        }
        Path parent = out.toAbsolutePath().getParent();
        Path tmp = parent.resolve("." + out.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(tmp);
            ObjectNode config = layout.config().prunedJson(model.layout().kept());
            if (layout.numLabels() > 0) config.put("num_labels", layout.numLabels());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.resolve("config.json").toFile(), config);
            SafeTensorsWriter writer = new SafeTensorsWriter();
            model.kernels().read(model.params().all);
            float[] block = model.params().block;
            for (ParamLayout.Binding b : layout.bindings()) writer.add(b.tensor(), b.shape(), block, b.offset(), b.transposed());
            writer.write(tmp.resolve(Checkpoint.SINGLE_FILE));
            for (String name : TOKENIZER_FILES) {
                Path f = source.resolve(name);
                if (Files.isRegularFile(f)) Files.copy(f, tmp.resolve(name));
            }
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
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // best effort: the temporary folder is hidden and named after this process
        }
    }
}
