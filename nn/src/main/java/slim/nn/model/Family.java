package slim.nn.model;

/** The model families slim wires from one kernel set, by Hugging Face `model_type`. */
public enum Family {
    GPT2("gpt2", "n_layer"),
    OPT("opt", "num_hidden_layers"),
    LLAMA("llama", "num_hidden_layers"),
    BERT("bert", "num_hidden_layers");

    private final String modelType;
    /** The config.json key holding the number of layers, rewritten when a model is pruned. */
    final String layersKey;

    Family(String modelType, String layersKey) {
        this.modelType = modelType;
        this.layersKey = layersKey;
    }

    public String modelType() {
        return modelType;
    }

    /** Decoders attend causally and can carry an LM head; the encoder attends both ways. */
    public boolean isDecoder() {
        return this != BERT;
    }

    public static Family fromModelType(String type) {
        for (Family f : values()) if (f.modelType.equals(type)) return f;
        return null;
    }
}
