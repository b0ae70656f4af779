package slim.nn.model;

/** Which position(s) the classification head reads. */
public enum Pooling {
    /** The last token: Hugging Face's *ForSequenceClassification for decoders. */
    LAST,
    /** The first token, [CLS] in BERT. */
    FIRST,
    /** The mean over all positions (sentence-transformers style). */
    MEAN;

    public static Pooling parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "last" -> LAST;
            case "cls", "first" -> FIRST;
            case "mean" -> MEAN;
            default -> throw new IllegalArgumentException("unknown pooling '" + s + "' (expected last, cls or mean)");
        };
    }
}
