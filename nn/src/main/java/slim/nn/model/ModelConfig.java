package slim.nn.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import slim.nn.SlimException;
import slim.nn.kernels.Nonlinearity;

/**
 * The shape and wiring choices of a model, read from a Hugging Face config.json. Every family is
 * described by the same fields; the family's wiring differences are the booleans below.
 *
 * @param hidden       C, the width of the residual stream
 * @param embedDim     width of the token embedding and the head (OPT's word_embed_proj_dim; else C)
 * @param headDim      D; hidden = heads·D except where the config says otherwise (Llama head_dim)
 * @param intermediate the MLP width (of each of gate and up when gated)
 * @param activation   the MLP non-linearity, or null for the SiLU-gated MLP
 * @param positionOffset OPT's learned positions start at row 2
 * @param preNorm      norm before each sub-block (GPT-2, OPT default, Llama) or after (BERT, opt-350m)
 */
public record ModelConfig(
        Family family, Path file, ObjectNode json,
        int vocab, int hidden, int embedDim, int layers, int heads, int kvHeads, int headDim,
        int intermediate, int maxPositions, int positionOffset, int typeVocab,
        float normEps, boolean rmsNorm, Nonlinearity activation, boolean preNorm, boolean finalNorm,
        boolean embeddingNorm, boolean linearBias, boolean ropeEnabled, float ropeTheta, boolean tiedHead,
        float embeddingDropout, float residualDropout, float attentionDropout, float initializerRange) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads DIR/config.json (or the file itself when given one). */
    public static ModelConfig read(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("config.json") : dirOrFile;
        if (!Files.isRegularFile(file)) throw new SlimException(file + ": no such file (a model folder needs config.json)");
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new SlimException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof ObjectNode json)) throw new SlimException(file + ": expected a JSON object");
        Reader r = new Reader(file, json);
        String type = r.string("model_type", null);
        if (type == null) throw new SlimException(file + ": no 'model_type' (expected one of gpt2, opt, llama, bert)");
        Family family = Family.fromModelType(type);
        if (family == null) {
            throw new SlimException(file + ": unsupported model_type '" + type + "' (slim knows gpt2, opt, llama, bert)");
        }
        ModelConfig config = switch (family) {
            case GPT2 -> {
                int c = r.integer("n_embd");
                int inner = r.json.hasNonNull("n_inner") ? r.integer("n_inner") : 4 * c;
                int heads = r.integer("n_head");
                float pdrop = r.number("resid_pdrop", 0.1);
                yield new ModelConfig(family, file, json, r.integer("vocab_size"), c, c, r.integer("n_layer"),
                        heads, heads, divide(file, c, heads), inner, r.integer("n_positions"), 0, 0,
                        r.number("layer_norm_epsilon", 1e-5), false,
                        activation(file, r.string("activation_function", "gelu_new")), true, true, false, true,
                        false, 0f, r.bool("tie_word_embeddings", true), r.number("embd_pdrop", 0.1), pdrop,
                        r.number("attn_pdrop", 0.1), r.number("initializer_range", 0.02));
            }
            case OPT -> {
                int c = r.integer("hidden_size");
                int heads = r.integer("num_attention_heads");
                boolean pre = r.bool("do_layer_norm_before", true);
                yield new ModelConfig(family, file, json, r.integer("vocab_size"), c,
                        r.integer("word_embed_proj_dim", c), r.integer("num_hidden_layers"), heads, heads,
                        divide(file, c, heads), r.integer("ffn_dim"), r.integer("max_position_embeddings"), 2, 0,
                        1e-5f, false, activation(file, r.string("activation_function", "relu")), pre,
                        pre && !r.bool("_remove_final_layer_norm", false), false, r.bool("enable_bias", true),
                        false, 0f, r.bool("tie_word_embeddings", true), r.number("dropout", 0.1),
                        r.number("dropout", 0.1), r.number("attention_dropout", 0.0), r.number("init_std", 0.02));
            }
            case LLAMA -> {
                int c = r.integer("hidden_size");
                int heads = r.integer("num_attention_heads");
                int kv = r.integer("num_key_value_heads", heads);
                if (kv <= 0 || heads % kv != 0) {
                    throw new SlimException(file + ": num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kv);
                }
                if (r.json.hasNonNull("rope_scaling")) {
                    throw new SlimException(file + ": rope_scaling is not supported");
                }
                String act = r.string("hidden_act", "silu");
                if (!act.equals("silu")) throw new SlimException(file + ": hidden_act '" + act + "' is not supported for llama (only silu)");
                int headDim = r.json.hasNonNull("head_dim") ? r.integer("head_dim") : divide(file, c, heads);
                yield new ModelConfig(family, file, json, r.integer("vocab_size"), c, c,
                        r.integer("num_hidden_layers"), heads, kv, headDim, r.integer("intermediate_size"),
                        r.integer("max_position_embeddings"), 0, 0, r.number("rms_norm_eps", 1e-6), true, null,
                        true, true, false, r.bool("attention_bias", false), true, r.number("rope_theta", 10000.0),
                        r.bool("tie_word_embeddings", false), 0f, 0f, r.number("attention_dropout", 0.0),
                        r.number("initializer_range", 0.02));
            }
            case BERT -> {
                int c = r.integer("hidden_size");
                int heads = r.integer("num_attention_heads");
                String pos = r.string("position_embedding_type", "absolute");
                if (!pos.equals("absolute")) throw new SlimException(file + ": position_embedding_type '" + pos + "' is not supported");
                float pdrop = r.number("hidden_dropout_prob", 0.1);
                yield new ModelConfig(family, file, json, r.integer("vocab_size"), c, c,
                        r.integer("num_hidden_layers"), heads, heads, divide(file, c, heads),
                        r.integer("intermediate_size"), r.integer("max_position_embeddings"), 0,
                        r.integer("type_vocab_size", 2), r.number("layer_norm_eps", 1e-12), false,
                        activation(file, r.string("hidden_act", "gelu")), false, false, true, true, false, 0f,
                        false, pdrop, pdrop, r.number("attention_probs_dropout_prob", 0.1),
                        r.number("initializer_range", 0.02));
            }
        };
        config.validate();
        return config;
    }

    private void validate() {
        check(vocab > 0 && hidden > 0 && layers > 0 && heads > 0 && headDim > 0 && intermediate > 0 && maxPositions > 0,
                "sizes must be positive");
        check(headDim % 2 == 0 || !ropeEnabled, "head_dim must be even for rotary positions");
    }

    private void check(boolean ok, String problem) {
        if (!ok) throw new SlimException(file + ": " + problem);
    }

    private static int divide(Path file, int hidden, int heads) {
        if (heads <= 0 || hidden % heads != 0) {
            throw new SlimException(file + ": hidden size " + hidden + " is not divisible by " + heads + " heads");
        }
        return hidden / heads;
    }

    private static Nonlinearity activation(Path file, String name) {
        try {
            return Nonlinearity.fromConfig(name);
        } catch (IllegalArgumentException e) {
            throw new SlimException(file + ": " + e.getMessage());
        }
    }

    public boolean gatedMlp() {
        return activation == null;
    }

    /** Rows of the fused q/k/v projection: H query heads, then KV key heads, then KV value heads. */
    public int qkvDim() {
        return (heads + 2 * kvHeads) * headDim;
    }

    /** Width of the attention output before its projection. */
    public int attentionDim() {
        return heads * headDim;
    }

    /** Rows of the MLP's first projection (gate and up stacked when gated). */
    public int mlpInDim() {
        return gatedMlp() ? 2 * intermediate : intermediate;
    }

    /** OPT's projection between the embedding width and the hidden width (opt-350m). */
    public boolean projects() {
        return embedDim != hidden;
    }

    /** Rejects a kept-layer count the model does not have, naming the file. */
    public void checkKeptLayers(int keep) {
        if (keep < 1 || keep > layers) {
            throw new SlimException(file + ": cannot keep " + keep + " layers of a model with " + layers
                    + " (k must be between 1 and " + layers + ")");
        }
    }

    /** The same config.json with only the first keep layers. */
    public ObjectNode prunedJson(int keep) {
        checkKeptLayers(keep);
        ObjectNode copy = json.deepCopy();
        copy.put(family.layersKey, keep);
        return copy;
    }

    /** Typed access to config.json with errors that name the file and key. */
    private record Reader(Path file, ObjectNode json) {
        int integer(String key) {
            JsonNode n = json.get(key);
            if (n == null || n.isNull()) throw new SlimException(file + ": missing '" + key + "'");
            if (!n.canConvertToInt() || !n.isIntegralNumber()) throw new SlimException(file + ": '" + key + "' must be an integer, got " + n);
            return n.intValue();
        }

        int integer(String key, int fallback) {
            return json.hasNonNull(key) ? integer(key) : fallback;
        }

        float number(String key, double fallback) {
            JsonNode n = json.get(key);
            if (n == null || n.isNull()) return (float) fallback;
            if (!n.isNumber()) throw new SlimException(file + ": '" + key + "' must be a number, got " + n);
            return n.floatValue();
        }

        boolean bool(String key, boolean fallback) {
            JsonNode n = json.get(key);
            if (n == null || n.isNull()) return fallback;
            if (!n.isBoolean()) throw new SlimException(file + ": '" + key + "' must be true or false, got " + n);
            return n.booleanValue();
        }

        String string(String key, String fallback) {
            JsonNode n = json.get(key);
            if (n == null || n.isNull()) return fallback;
            if (!n.isTextual()) throw new SlimException(file + ": '" + key + "' must be a string, got " + n);
            return n.textValue();
        }
    }
}
