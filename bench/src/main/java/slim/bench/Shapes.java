package slim.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import slim.nn.kernels.Kernels;
import slim.nn.model.KeptLayers;
import slim.nn.model.Model;
import slim.nn.model.ModelConfig;
import slim.nn.model.ParamLayout;
import slim.nn.model.Pooling;

/**
 * The model shapes the benchmarks run, as Hugging Face config.json files with random weights: no
 * checkpoint is read, so the numbers measure compute and memory traffic only.
 */
public enum Shapes {
    /** The built-in Llama of ../shared/models: small enough for a CPU OpenCL device (BackendSteps on PoCL). */
    STORIES260K("stories260K", """
            {"model_type": "llama", "vocab_size": 512, "hidden_size": 64, "intermediate_size": 172,
             "num_hidden_layers": 5, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 8,
             "max_position_embeddings": 512, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "hidden_act": "silu",
             "tie_word_embeddings": true}"""),
    GPT2("gpt2", """
            {"model_type": "gpt2", "vocab_size": 50257, "n_embd": 768, "n_layer": 12, "n_head": 12,
             "n_positions": 1024, "activation_function": "gelu_new",
             "embd_pdrop": 0.0, "resid_pdrop": 0.0, "attn_pdrop": 0.0}"""),
    GPT2_XL("gpt2-xl", """
            {"model_type": "gpt2", "vocab_size": 50257, "n_embd": 1600, "n_layer": 48, "n_head": 25,
             "n_positions": 1024, "activation_function": "gelu_new",
             "embd_pdrop": 0.0, "resid_pdrop": 0.0, "attn_pdrop": 0.0}"""),
    OPT_1_3B("opt-1.3b", """
            {"model_type": "opt", "vocab_size": 50272, "hidden_size": 2048, "num_hidden_layers": 24,
             "num_attention_heads": 32, "ffn_dim": 8192, "max_position_embeddings": 2048,
             "word_embed_proj_dim": 2048, "do_layer_norm_before": true, "activation_function": "relu",
             "dropout": 0.0, "attention_dropout": 0.0}""");

    /** The name used on the command line and in the tables (-p shape=gpt2). */
    public final String id;

    private final String json;

    Shapes(String id, String json) {
        this.id = id;
        this.json = json;
    }

    public static Shapes parse(String id) {
        for (Shapes s : values()) if (s.id.equals(id)) return s;
        throw new IllegalArgumentException("unknown shape " + id);
    }

    /** The config, read back from a config.json written to a temporary folder (ModelConfig reads files). */
    public ModelConfig config() {
        try {
            Path dir = Files.createTempDirectory("slim-bench-" + id);
            Path file = dir.resolve("config.json");
            Files.writeString(file, json);
            ModelConfig config = ModelConfig.read(dir);
            Files.delete(file);
            Files.delete(dir);
            return config;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The first k layers with random weights (uniform with the std 0.02 of initialisation; norm
     * weights at 1), and an LM head evaluated at up to maxHeadRows positions, running on the given kernels.
     */
    public Model model(int k, int maxTokens, int maxHeadRows, boolean trainable, Kernels kernels) {
        ParamLayout layout = new ParamLayout(config(), KeptLayers.first(k), 0, "");
        float[] block = new float[layout.size()];
        SplittableRandom random = new SplittableRandom(k * 1_000_003L + maxTokens);
        float range = (float) (0.02 * Math.sqrt(3));
        for (int i = 0; i < block.length; i++) block[i] = (random.nextFloat() * 2 - 1) * range;
        for (var e : layout.entries().entrySet()) {
            if (e.getKey().toLowerCase(Locale.ROOT).contains("norm")
                    && e.getKey().endsWith("W")) {
                Arrays.fill(
                        block,
                        e.getValue().offset(),
                        e.getValue().offset() + e.getValue().length(),
                        1f);
            }
        }
        return new Model(layout, block, kernels, maxTokens, maxHeadRows, Pooling.LAST, trainable);
    }

    /** Floats of the first-k parameter block (computed without the 2^31 limit of one Java array). */
    public long parameters(int k) {
        ModelConfig c = config();
        long one = new ParamLayout(c, KeptLayers.first(1), 0, "").size();
        return c.layers() == 1 ? one : one + (k - 1) * (new ParamLayout(c, KeptLayers.first(2), 0, "").size() - one);
    }

    /** Random token ids below the vocabulary size, reproducibly. */
    public int[] tokens(int n, long seed) {
        int vocab = config().vocab();
        SplittableRandom random = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = random.nextInt(vocab);
        return ids;
    }
}
