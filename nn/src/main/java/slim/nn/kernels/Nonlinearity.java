package slim.nn.kernels;

/**
 * The element-wise non-linearities: the families' MLPs (the gated SiLU has its own kernel) and tanh, which
 * BERT's pooler applies before BertForSequenceClassification's classifier.
 */
public enum Nonlinearity {
    /** GPT-2's `gelu_new`: the tanh approximation. */
    GELU_TANH,
    /** BERT's `gelu`: the exact form with erf. */
    GELU_ERF,
    RELU,
    /** BERT's pooler (never an MLP's: fromConfig does not map it). */
    TANH;

    /** Maps a Hugging Face `activation_function` / `hidden_act` string. */
    public static Nonlinearity fromConfig(String name) {
        return switch (name) {
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
            case "gelu" -> GELU_ERF;
            case "relu" -> RELU;
            default -> throw new IllegalArgumentException("unsupported activation '" + name + "'");
        };
    }
}
