package slim.nn.model;

import java.util.Locale;

/** Which position(s) the classification head reads. */
public enum Pooling {
    /** The last token: Hugging Face's *ForSequenceClassification for decoders. */
    LAST,
    /** The first token, [CLS] in BERT. */
    FIRST,
    /** The mean over all positions (sentence-transformers style). */
    MEAN,
    /**
     * BertForSequenceClassification's head: the pretrained pooler (dense + tanh) on [CLS], dropout, then a
     * classifier with bias.
     */
    CLS_POOLER;

    /** The rows of a T-token pass this pooling reads. */
    public Rows rows(int T) {
        return switch (this) {
            case LAST -> Rows.all(T).lastRow();
            case FIRST, CLS_POOLER -> Rows.all(T).head(0, 1);
            case MEAN -> Rows.all(T);
        };
    }

    /** The name --pooling takes and results record: last, cls, mean or cls-pooler. */
    public String id() {
        return switch (this) {
            case LAST -> "last";
            case FIRST -> "cls";
            case MEAN -> "mean";
            case CLS_POOLER -> "cls-pooler";
        };
    }

    /** last, cls or mean (and "first", which results written before the id was cls hold). */
    public static Pooling parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "last" -> LAST;
            case "cls", "first" -> FIRST;
            case "mean" -> MEAN;
            case "cls-pooler", "cls_pooler" -> CLS_POOLER;
            default ->
                throw new IllegalArgumentException(
                        "unknown pooling '" + s + "' (expected last, cls, cls-pooler or mean)");
        };
    }
}
