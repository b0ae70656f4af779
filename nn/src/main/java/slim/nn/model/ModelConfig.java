package slim.nn.model;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import slim.nn.SlimException;
import slim.nn.kernels.AttentionHeads;
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
        Family family,
        Path file,
        ObjectNode json,
        int vocab,
        int hidden,
        int embedDim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int intermediate,
        int maxPositions,
        int positionOffset,
        int typeVocab,
        float normEps,
        boolean rmsNorm,
        Nonlinearity activation,
        boolean preNorm,
        boolean finalNorm,
        boolean embeddingNorm,
        boolean linearBias,
        boolean ropeEnabled,
        float ropeTheta,
        boolean tiedHead,
        float embeddingDropout,
        float residualDropout,
        float attentionDropout,
        float initializerRange) {

    /** A name given twice would leave the value read up to which copy the parser keeps: an error instead. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    /** The longest context a config may declare (2^20; the largest hub models have 2^17); more is a damaged file. */
    static final int MAX_POSITIONS = 1 << 20;
    /** The largest size (width, vocabulary, layer count) a config may declare: 2^24, some 60 times today's largest. */
    static final int MAX_SIZE = 1 << 24;

    /** Reads DIR/config.json (or the file itself when given one). */
    public static ModelConfig read(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("config.json") : dirOrFile;
        if (!Files.isRegularFile(file))
            throw new SlimException(file + ": no such file (a model folder needs config.json)");
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
            throw new SlimException(
                    file + ": unsupported model_type '" + type + "' (slim knows gpt2, opt, llama, bert)");
        }
        Builder b = new Builder(family, file, json).vocab(r.size("vocab_size"));
        switch (family) {
            case GPT2 -> {
                int c = r.size("n_embd");
                int heads = r.size("n_head");
                float pdrop = r.probability("resid_pdrop", 0.1);
                b.hidden(c)
                        .layers(r.size("n_layer"))
                        .heads(heads, heads, r.divide("n_embd", "n_head"))
                        .intermediate(r.size("n_inner", 4 * c))
                        .maxPositions(r.positions("n_positions"))
                        .normEps(r.positive("layer_norm_epsilon", 1e-5))
                        .activation(activation(file, r.string("activation_function", "gelu_new")))
                        .preNorm(true)
                        .finalNorm(true)
                        .linearBias(true)
                        .tiedHead(r.bool("tie_word_embeddings", true))
                        .dropout(r.probability("embd_pdrop", 0.1), pdrop, r.probability("attn_pdrop", 0.1))
                        .initializerRange(r.nonNegative("initializer_range", 0.02));
            }
            case OPT -> {
                int c = r.size("hidden_size");
                int heads = r.size("num_attention_heads");
                boolean pre = r.bool("do_layer_norm_before", true);
                float pdrop = r.probability("dropout", 0.1);
                b.hidden(c)
                        .embedDim(r.size("word_embed_proj_dim", c))
                        .layers(r.size("num_hidden_layers"))
                        .heads(heads, heads, r.divide("hidden_size", "num_attention_heads"))
                        .intermediate(r.size("ffn_dim"))
                        .maxPositions(r.positions("max_position_embeddings"))
                        .positionOffset(2)
                        .normEps(1e-5f)
                        .activation(activation(file, r.string("activation_function", "relu")))
                        .preNorm(pre)
                        .finalNorm(pre && !r.bool("_remove_final_layer_norm", false))
                        .linearBias(r.bool("enable_bias", true))
                        .tiedHead(r.bool("tie_word_embeddings", true))
                        .dropout(pdrop, pdrop, r.probability("attention_dropout", 0.0))
                        .initializerRange(r.nonNegative("init_std", 0.02));
            }
            case LLAMA -> {
                int c = r.size("hidden_size");
                int heads = r.size("num_attention_heads");
                int kv = r.size("num_key_value_heads", heads);
                if (heads % kv != 0) {
                    throw new SlimException(file + ": num_attention_heads " + heads
                            + " is not a multiple of num_key_value_heads " + kv);
                }
                if (r.json.hasNonNull("rope_scaling")) {
                    throw new SlimException(file + ": rope_scaling is not supported");
                }
                String act = r.string("hidden_act", "silu");
                if (!act.equals("silu")) {
                    throw new SlimException(file + ": hidden_act '" + act + "' is not supported for llama (only silu)");
                }
                int headDim = r.json.hasNonNull("head_dim")
                        ? r.size("head_dim")
                        : r.divide("hidden_size", "num_attention_heads");
                if (headDim % 2 != 0)
                    throw new SlimException(file + ": 'head_dim' " + headDim + " must be even for rotary positions");
                if ((long) (heads + 2 * kv) * headDim > MAX_SIZE) {
                    throw new SlimException(
                            file + ": 'head_dim' " + headDim + " times the heads is beyond any model slim can run");
                }
                b.hidden(c)
                        .layers(r.size("num_hidden_layers"))
                        .heads(heads, kv, headDim)
                        .intermediate(r.size("intermediate_size"))
                        .maxPositions(r.positions("max_position_embeddings"))
                        .normEps(r.positive("rms_norm_eps", 1e-6))
                        .rmsNorm(true)
                        .activation(null)
                        .preNorm(true)
                        .finalNorm(true)
                        .linearBias(r.bool("attention_bias", false))
                        .rope(r.positive("rope_theta", 10000.0))
                        .tiedHead(r.bool("tie_word_embeddings", false))
                        .dropout(0f, 0f, r.probability("attention_dropout", 0.0))
                        .initializerRange(r.nonNegative("initializer_range", 0.02));
            }
            case BERT -> {
                int c = r.size("hidden_size");
                int heads = r.size("num_attention_heads");
                String pos = r.string("position_embedding_type", "absolute");
                if (!pos.equals("absolute")) {
                    throw new SlimException(file + ": position_embedding_type '" + pos + "' is not supported");
                }
                float pdrop = r.probability("hidden_dropout_prob", 0.1);
                b.hidden(c)
                        .layers(r.size("num_hidden_layers"))
                        .heads(heads, heads, r.divide("hidden_size", "num_attention_heads"))
                        .intermediate(r.size("intermediate_size"))
                        .maxPositions(r.positions("max_position_embeddings"))
                        .typeVocab(r.size("type_vocab_size", 2))
                        .normEps(r.positive("layer_norm_eps", 1e-12))
                        .activation(activation(file, r.string("hidden_act", "gelu")))
                        .embeddingNorm(true)
                        .linearBias(true)
                        .dropout(pdrop, pdrop, r.probability("attention_probs_dropout_prob", 0.1))
                        .initializerRange(r.nonNegative("initializer_range", 0.02));
            }
        }
        return b.build();
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

    /** The attention kernels' view of the heads: causal in decoders, both ways in encoders. */
    public AttentionHeads attentionHeads() {
        return new AttentionHeads(heads, kvHeads, headDim, family.isDecoder());
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

    /** Dropout before BERT's classifier: classifier_dropout where the config sets it, else the hidden dropout. */
    public float classifierDropout() {
        JsonNode p = json.get("classifier_dropout");
        return p != null && p.isNumber() ? p.floatValue() : residualDropout;
    }

    /** Rejects a kept-layer count the model does not have, naming the file. */
    public void checkKeptLayers(int keep) {
        if (keep < 1 || keep > layers) {
            throw new SlimException(file + ": cannot keep " + keep + " layers of a model with " + layers
                    + " (k must be between 1 and " + layers + ")");
        }
    }

    /**
     * The same config.json for a model of only the kept layers: the layer count, and any per-layer
     * list (newer configs' layer_types) cut to the kept entries.
     */
    public ObjectNode prunedJson(KeptLayers kept) {
        kept.checkWithin(this);
        ObjectNode copy = json.deepCopy();
        copy.put(family.layersKey, kept.count());
        if (json.get("layer_types") instanceof ArrayNode types && types.size() == layers) {
            ArrayNode cut = copy.putArray("layer_types");
            for (int l : kept.indices()) cut.add(types.get(l));
        }
        return copy;
    }

    /**
     * The fields by name, for {@link #read}: each family sets what its config.json says and leaves the
     * rest at the defaults (embedDim = hidden, no position offset, no token types, LayerNorm after
     * nothing, no bias, no rotary positions, untied head, no dropout).
     */
    private static final class Builder {
        private final Family family;
        private final Path file;
        private final ObjectNode json;
        private int vocab, hidden, embedDim, layers, heads, kvHeads, headDim, intermediate, maxPositions;
        private int positionOffset, typeVocab;
        private float normEps, ropeTheta, embeddingDropout, residualDropout, attentionDropout, initializerRange;
        private boolean rmsNorm, preNorm, finalNorm, embeddingNorm, linearBias, ropeEnabled, tiedHead;
        private Nonlinearity activation;

        Builder(Family family, Path file, ObjectNode json) {
            this.family = family;
            this.file = file;
            this.json = json;
        }

        Builder vocab(int v) {
            vocab = v;
            return this;
        }

        Builder hidden(int c) {
            hidden = c;
            return this;
        }

        Builder embedDim(int p) {
            embedDim = p;
            return this;
        }

        Builder layers(int n) {
            layers = n;
            return this;
        }

        /** Query heads, key/value heads and the width of each. */
        Builder heads(int h, int kv, int d) {
            heads = h;
            kvHeads = kv;
            headDim = d;
            return this;
        }

        Builder intermediate(int i) {
            intermediate = i;
            return this;
        }

        Builder maxPositions(int n) {
            maxPositions = n;
            return this;
        }

        Builder positionOffset(int n) {
            positionOffset = n;
            return this;
        }

        Builder typeVocab(int n) {
            typeVocab = n;
            return this;
        }

        Builder normEps(float eps) {
            normEps = eps;
            return this;
        }

        Builder rmsNorm(boolean on) {
            rmsNorm = on;
            return this;
        }

        /** The MLP's non-linearity; null for the SiLU-gated MLP. */
        Builder activation(Nonlinearity a) {
            activation = a;
            return this;
        }

        Builder preNorm(boolean on) {
            preNorm = on;
            return this;
        }

        Builder finalNorm(boolean on) {
            finalNorm = on;
            return this;
        }

        Builder embeddingNorm(boolean on) {
            embeddingNorm = on;
            return this;
        }

        Builder linearBias(boolean on) {
            linearBias = on;
            return this;
        }

        /** Rotary positions with this base. */
        Builder rope(float theta) {
            ropeEnabled = true;
            ropeTheta = theta;
            return this;
        }

        Builder tiedHead(boolean on) {
            tiedHead = on;
            return this;
        }

        Builder dropout(float embedding, float residual, float attention) {
            embeddingDropout = embedding;
            residualDropout = residual;
            attentionDropout = attention;
            return this;
        }

        Builder initializerRange(float std) {
            initializerRange = std;
            return this;
        }

        ModelConfig build() {
            return new ModelConfig(
                    family,
                    file,
                    json,
                    vocab,
                    hidden,
                    embedDim > 0 ? embedDim : hidden,
                    layers,
                    heads,
                    kvHeads,
                    headDim,
                    intermediate,
                    maxPositions,
                    positionOffset,
                    typeVocab,
                    normEps,
                    rmsNorm,
                    activation,
                    preNorm,
                    finalNorm,
                    embeddingNorm,
                    linearBias,
                    ropeEnabled,
                    ropeTheta,
                    tiedHead,
                    embeddingDropout,
                    residualDropout,
                    attentionDropout,
                    initializerRange);
        }
    }

    /** Typed access to config.json with errors that name the file and key, and the range each value must lie in. */
    private record Reader(Path file, ObjectNode json) {
        int integer(String key) {
            JsonNode n = json.get(key);
            if (n == null || n.isNull()) throw new SlimException(file + ": missing '" + key + "'");
            if (!n.canConvertToInt() || !n.isIntegralNumber())
                throw new SlimException(file + ": '" + key + "' must be an integer, got " + n);
            return n.intValue();
        }

        /**
         * A size (layers, heads, widths, vocabulary): a positive integer, small enough that products of two fit a long.
         */
        int size(String key) {
            int v = integer(key);
            if (v <= 0) throw new SlimException(file + ": '" + key + "' must be positive, got " + v);
            if (v > MAX_SIZE)
                throw new SlimException(file + ": '" + key + "' is " + v + ", beyond any model slim can run (at most "
                        + MAX_SIZE + ")");
            return v;
        }

        int size(String key, int fallback) {
            return json.hasNonNull(key) ? size(key) : fallback;
        }

        /** A context length: positive, and at most what a model slim can run might have. */
        int positions(String key) {
            int v = integer(key);
            if (v > MAX_POSITIONS) {
                throw new SlimException(file + ": '" + key + "' is " + v + ", beyond any context slim can run (at most "
                        + MAX_POSITIONS + ")");
            }
            return size(key);
        }

        /** The per-head width: hiddenKey's value split evenly over headsKey's. */
        int divide(String hiddenKey, String headsKey) {
            int hidden = size(hiddenKey), heads = size(headsKey);
            if (hidden % heads != 0) {
                throw new SlimException(
                        file + ": '" + hiddenKey + "' " + hidden + " is not divisible by '" + headsKey + "' " + heads);
            }
            return hidden / heads;
        }

        float number(String key, double fallback) {
            JsonNode n = json.get(key);
            if (n == null || n.isNull()) return (float) fallback;
            if (!n.isNumber()) throw new SlimException(file + ": '" + key + "' must be a number, got " + n);
            float v = n.floatValue();
            if (!Float.isFinite(v)) throw new SlimException(file + ": '" + key + "' must be finite, got " + n);
            return v;
        }

        /** An epsilon or a base: greater than 0. */
        float positive(String key, double fallback) {
            float v = number(key, fallback);
            if (!(v > 0)) throw new SlimException(file + ": '" + key + "' must be greater than 0, got " + v);
            return v;
        }

        float nonNegative(String key, double fallback) {
            float v = number(key, fallback);
            if (v < 0) throw new SlimException(file + ": '" + key + "' must not be negative, got " + v);
            return v;
        }

        /** A dropout probability: in [0, 1) (at 1 nothing would be kept). */
        float probability(String key, double fallback) {
            float v = number(key, fallback);
            if (!(v >= 0 && v < 1))
                throw new SlimException(file + ": '" + key + "' must be a probability in [0, 1), got " + v);
            return v;
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
