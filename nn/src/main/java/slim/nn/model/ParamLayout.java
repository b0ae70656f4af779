package slim.nn.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import slim.nn.Slice;
import slim.nn.SlimException;

/**
 * Where every parameter of a model cut to its kept layers lives in the one flat parameter block,
 * and which Hugging Face tensor fills each part. The same layout indexes the gradients and
 * optimiser state. Kept layers are numbered 0..n-1 in the block; their tensors are named by their
 * original indices, so the layout of layers {2, 5} reads h.2 and h.5 into block layers 0 and 1.
 *
 * <p>Internally every family has the same parts: a layer's q, k and v projections are one fused
 * [H+2KV)·D, C] matrix (GPT-2's c_attn already is; OPT, Llama and BERT fill it from three
 * tensors), the gated MLP's gate and up are one [2I, C] matrix, and all linear weights are
 * [out, in] (GPT-2's Conv1D tensors are transposed on the way in and out).
 */
public final class ParamLayout {

    /** A named part of the block. */
    public record Entry(String name, int offset, int length) {}

    /** A checkpoint tensor: its name and stored shape, and where it lies in the block. */
    public record Binding(String tensor, long[] shape, int offset, boolean transposed) {
        public int length() {
            long n = 1;
            for (long d : shape) n *= d;
            return (int) n;
        }
    }

    public static final String SCORE_TENSOR = "score.weight";
    /** BertForSequenceClassification's head: a linear layer with bias on the pooler's output. */
    public static final String CLASSIFIER_TENSOR = "classifier.weight", CLASSIFIER_BIAS = "classifier.bias";

    private final ModelConfig config;
    private final KeptLayers kept;
    private final int numLabels;
    private final boolean pooler;
    private final String prefix;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final List<Binding> bindings = new ArrayList<>();
    private long size;

    /**
     * @param prefix    the checkpoint's tensor-name prefix ("transformer.", "model.decoder.", "bert.", ...)
     * @param numLabels rows of the classification head `score`; 0 for none
     */
    public ParamLayout(ModelConfig config, KeptLayers kept, int numLabels, String prefix) {
        this(config, kept, numLabels, false, prefix);
    }

    /**
     * @param pooler the classification head is BERT's: the pooler (dense + tanh on [CLS]) then `classifier`
     *               with bias, instead of `score` without
     */
    public ParamLayout(ModelConfig config, KeptLayers kept, int numLabels, boolean pooler, String prefix) {
        kept.checkWithin(config);
        if (pooler && config.family() != Family.BERT) {
            throw new SlimException(config.file() + ": the pooler head is BERT's; a "
                    + config.family().modelType() + " model has no pooler");
        }
        this.config = config;
        this.kept = kept;
        this.numLabels = numLabels;
        this.pooler = pooler && numLabels > 0;
        this.prefix = prefix;
        switch (config.family()) {
            case GPT2 -> gpt2();
            case OPT -> opt();
            case LLAMA -> llama();
            case BERT -> bert();
        }
        int p = config.embedDim();
        if (this.pooler) {
            bind(add("poolerW", (long) p * p), "pooler.dense.weight", p, p);
            bind(add("poolerB", p), "pooler.dense.bias", p);
            bindTop(add("score", (long) numLabels * p), CLASSIFIER_TENSOR, numLabels, p);
            bindTop(add("scoreB", numLabels), CLASSIFIER_BIAS, numLabels);
        } else if (numLabels > 0) {
            bindTop(add("score", (long) numLabels * p), SCORE_TENSOR, numLabels, p);
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new SlimException(config.file() + ": " + size + " parameters with " + kept.count()
                    + " layers kept exceed one Java array (2^31); keep fewer layers");
        }
    }

    private void gpt2() {
        int c = config.hidden(), v = config.vocab();
        bind(add("wte", (long) v * c), "wte.weight", v, c);
        bind(add("wpe", (long) config.maxPositions() * c), "wpe.weight", config.maxPositions(), c);
        for (int l = 0; l < kept.count(); l++) {
            String h = block(kept.get(l));
            String e = layer(l);
            bind(add(e + "norm1W", c), h + "ln_1.weight", c);
            bind(add(e + "norm1B", c), h + "ln_1.bias", c);
            bindTransposed(add(e + "qkvW", 3L * c * c), h + "attn.c_attn.weight", c, 3 * c);
            bind(add(e + "qkvB", 3 * c), h + "attn.c_attn.bias", 3 * c);
            bindTransposed(add(e + "attnOutW", (long) c * c), h + "attn.c_proj.weight", c, c);
            bind(add(e + "attnOutB", c), h + "attn.c_proj.bias", c);
            bind(add(e + "norm2W", c), h + "ln_2.weight", c);
            bind(add(e + "norm2B", c), h + "ln_2.bias", c);
            int i = config.intermediate();
            bindTransposed(add(e + "fcW", (long) i * c), h + "mlp.c_fc.weight", c, i);
            bind(add(e + "fcB", i), h + "mlp.c_fc.bias", i);
            bindTransposed(add(e + "projW", (long) c * i), h + "mlp.c_proj.weight", i, c);
            bind(add(e + "projB", c), h + "mlp.c_proj.bias", c);
        }
        bind(add("finalNormW", c), "ln_f.weight", c);
        bind(add("finalNormB", c), "ln_f.bias", c);
        untiedHead("lm_head.weight");
    }

    private void opt() {
        int c = config.hidden(), p = config.embedDim(), v = config.vocab();
        bind(add("wte", (long) v * p), "embed_tokens.weight", v, p);
        int positions = config.maxPositions() + config.positionOffset();
        bind(add("wpe", (long) positions * c), "embed_positions.weight", positions, c);
        if (config.projects()) {
            bind(add("projectIn", (long) c * p), "project_in.weight", c, p);
            bind(add("projectOut", (long) p * c), "project_out.weight", p, c);
        }
        for (int l = 0; l < kept.count(); l++) {
            String h = block(kept.get(l));
            String e = layer(l);
            attention(e, h + "self_attn.", "q_proj", "k_proj", "v_proj", "out_proj", true);
            bind(add(e + "norm1W", c), h + "self_attn_layer_norm.weight", c);
            bind(add(e + "norm1B", c), h + "self_attn_layer_norm.bias", c);
            mlp(e, h + "fc1", h + "fc2", config.linearBias());
            bind(add(e + "norm2W", c), h + "final_layer_norm.weight", c);
            bind(add(e + "norm2B", c), h + "final_layer_norm.bias", c);
        }
        if (config.finalNorm()) {
            bind(add("finalNormW", c), "final_layer_norm.weight", c);
            bind(add("finalNormB", c), "final_layer_norm.bias", c);
        }
        untiedHead("lm_head.weight");
    }

    private void llama() {
        int c = config.hidden(), v = config.vocab(), inter = config.intermediate();
        bind(add("wte", (long) v * c), "embed_tokens.weight", v, c);
        for (int l = 0; l < kept.count(); l++) {
            String h = block(kept.get(l));
            String e = layer(l);
            bind(add(e + "norm1W", c), h + "input_layernorm.weight", c);
            attention(e, h + "self_attn.", "q_proj", "k_proj", "v_proj", "o_proj", config.linearBias());
            bind(add(e + "norm2W", c), h + "post_attention_layernorm.weight", c);
            add(e + "fcW", 2L * inter * c);
            bind(entries.get(e + "fcW"), h + "mlp.gate_proj.weight", inter, c);
            bindAt(entries.get(e + "fcW"), h + "mlp.up_proj.weight", inter * c, false, inter, c);
            bind(add(e + "projW", (long) c * inter), h + "mlp.down_proj.weight", c, inter);
        }
        bind(add("finalNormW", c), "norm.weight", c);
        untiedHead("lm_head.weight");
    }

    private void bert() {
        int c = config.hidden(), v = config.vocab();
        bind(add("wte", (long) v * c), "embeddings.word_embeddings.weight", v, c);
        bind(
                add("wpe", (long) config.maxPositions() * c),
                "embeddings.position_embeddings.weight",
                config.maxPositions(),
                c);
        bind(
                add("wtt", (long) config.typeVocab() * c),
                "embeddings.token_type_embeddings.weight",
                config.typeVocab(),
                c);
        bind(add("embNormW", c), "embeddings.LayerNorm.weight", c);
        bind(add("embNormB", c), "embeddings.LayerNorm.bias", c);
        for (int l = 0; l < kept.count(); l++) {
            String h = block(kept.get(l));
            String e = layer(l);
            attention(e, h + "attention.", "self.query", "self.key", "self.value", "output.dense", true);
            bind(add(e + "norm1W", c), h + "attention.output.LayerNorm.weight", c);
            bind(add(e + "norm1B", c), h + "attention.output.LayerNorm.bias", c);
            mlp(e, h + "intermediate.dense", h + "output.dense", true);
            bind(add(e + "norm2W", c), h + "output.LayerNorm.weight", c);
            bind(add(e + "norm2B", c), h + "output.LayerNorm.bias", c);
        }
    }

    /** Separate q, k, v tensors into the fused qkv matrix, then the output projection. */
    private void attention(String e, String h, String q, String k, String v, String out, boolean bias) {
        int c = config.hidden(), qd = config.attentionDim(), kvd = config.kvHeads() * config.headDim();
        Entry w = add(e + "qkvW", (long) config.qkvDim() * c);
        bind(w, h + q + ".weight", qd, c);
        bindAt(w, h + k + ".weight", qd * c, false, kvd, c);
        bindAt(w, h + v + ".weight", (qd + kvd) * c, false, kvd, c);
        if (bias) {
            Entry b = add(e + "qkvB", config.qkvDim());
            bind(b, h + q + ".bias", qd);
            bindAt(b, h + k + ".bias", qd, false, kvd);
            bindAt(b, h + v + ".bias", qd + kvd, false, kvd);
        }
        bind(add(e + "attnOutW", (long) c * qd), h + out + ".weight", c, qd);
        if (bias) bind(add(e + "attnOutB", c), h + out + ".bias", c);
    }

    private void mlp(String e, String fc, String proj, boolean bias) {
        int c = config.hidden(), i = config.intermediate();
        bind(add(e + "fcW", (long) i * c), fc + ".weight", i, c);
        if (bias) bind(add(e + "fcB", i), fc + ".bias", i);
        bind(add(e + "projW", (long) c * i), proj + ".weight", c, i);
        if (bias) bind(add(e + "projB", c), proj + ".bias", c);
    }

    private void untiedHead(String tensor) {
        if (!config.tiedHead()) {
            // The head sits outside the family prefix on the hub ("lm_head.weight").
            bindTop(
                    add("lmHead", (long) config.vocab() * config.embedDim()),
                    tensor,
                    config.vocab(),
                    config.embedDim());
        }
    }

    /** The hub's name for block l's tensors (l as the checkpoint numbers it), before the checkpoint's prefix. */
    private String block(int l) {
        return switch (config.family()) {
            case GPT2 -> "h." + l + ".";
            case OPT, LLAMA -> "layers." + l + ".";
            case BERT -> "encoder.layer." + l + ".";
        };
    }

    /** The prefix of every checkpoint tensor of block l, as the checkpoint numbers it. */
    public String blockPrefix(int l) {
        return prefix + block(l);
    }

    static String layer(int l) {
        return "layers." + l + ".";
    }

    /** Lengths are long so that a config too large for one array is refused by the size check, not wrapped around. */
    private Entry add(String name, long length) {
        Entry e = new Entry(name, (int) Math.min(size, Integer.MAX_VALUE), (int) Math.min(length, Integer.MAX_VALUE));
        entries.put(name, e);
        size += length;
        return e;
    }

    /** The hub's tensor holds the whole entry, laid out as the entry is. */
    private void bind(Entry e, String tensor, long... shape) {
        bindAt(e, tensor, 0, false, shape);
    }

    /** The hub's tensor holds the whole entry, transposed (GPT-2's Conv1D weights are [in, out]). */
    private void bindTransposed(Entry e, String tensor, long... shape) {
        bindAt(e, tensor, 0, true, shape);
    }

    /** The hub's tensor holds the part of the entry from float within on (q, k and v of a fused qkv). */
    private void bindAt(Entry e, String tensor, int within, boolean transposed, long... shape) {
        bindings.add(new Binding(prefix + tensor, shape, e.offset() + within, transposed));
    }

    /** A head tensor: the *For... classes keep it outside the base model's prefix. */
    private void bindTop(Entry e, String tensor, long... shape) {
        bindings.add(new Binding(tensor, shape, e.offset(), false));
    }

    public ModelConfig config() {
        return config;
    }

    /** The original indices of the layers held, block layer i being kept().get(i). */
    public KeptLayers kept() {
        return kept;
    }

    /** Number of layers held. */
    public int keptLayers() {
        return kept.count();
    }

    /**
     * The same parts over the same block, with the layers' tensors named 0..n-1: how a model of
     * kept layers is written as a checkpoint of n layers. Every layer has the same parts, so
     * offsets do not move.
     */
    public ParamLayout renumbered() {
        return new ParamLayout(config, KeptLayers.first(kept.count()), numLabels, pooler, prefix);
    }

    /** The same layout with the checkpoint tensors named under another prefix. */
    public ParamLayout withPrefix(String other) {
        return new ParamLayout(config, kept, numLabels, pooler, other);
    }

    public boolean pooler() {
        return pooler;
    }

    /** Whether a tensor is part of a classification head (which a checkpoint may not have yet). */
    public static boolean isHead(String tensor) {
        return tensor.equals(SCORE_TENSOR)
                || tensor.startsWith("classifier.")
                || tensor.endsWith("pooler.dense.weight")
                || tensor.endsWith("pooler.dense.bias");
    }

    public int numLabels() {
        return numLabels;
    }

    public String prefix() {
        return prefix;
    }

    /** Number of floats in the block. */
    public int size() {
        return (int) size;
    }

    public List<Binding> bindings() {
        return bindings;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    /** The named part of a block laid out by this layout, or null if the model has no such part. */
    public Slice slice(float[] block, String name) {
        Entry e = entries.get(name);
        return e == null ? null : new Slice(block, e.offset(), e.length());
    }

    /** The binding of a checkpoint tensor name, or null. */
    public Binding binding(String tensor) {
        for (Binding b : bindings) if (b.tensor().equals(tensor)) return b;
        return null;
    }

    /** A tensor's values in its checkpoint layout (transposed back where stored transposed). */
    public float[] export(float[] block, Binding b) {
        float[] out = new float[b.length()];
        if (!b.transposed()) {
            System.arraycopy(block, b.offset(), out, 0, out.length);
        } else {
            int rows = (int) b.shape()[0], cols = (int) b.shape()[1];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) out[r * cols + c] = block[b.offset() + c * rows + r];
            }
        }
        return out;
    }
}
