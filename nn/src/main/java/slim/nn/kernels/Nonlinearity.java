package slim.nn.kernels;

/** The element-wise non-linearities of the families' MLPs (the gated SiLU has its own kernel). */
public enum Nonlinearity {
    /** GPT-2's `gelu_new`: the tanh approximation. */
    GELU_TANH,
    /** BERT's `gelu`: the exact form with erf. */
    GELU_ERF,
    RELU;

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
