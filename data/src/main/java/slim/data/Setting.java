package slim.data;

/**
 * How an example becomes model input. LM_PROMPT and CLS_PROMPT share one prompt: a demonstration per
 * class, then the query (the format with its label left empty). CLS_PLAIN has no demonstrations: it is
 * the query alone, still in the task's format ("Review: {text}\nSentiment:"), so the three settings
 * differ only in what the study varies (demonstrations, and which head reads the last position).
 */
public enum Setting {
    LM_PROMPT("lm-prompt"),
    CLS_PROMPT("cls-prompt"),
    CLS_PLAIN("cls-plain");

    private final String id;

    Setting(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public boolean hasDemonstrations() {
        return this != CLS_PLAIN;
    }

    public static Setting parse(String name) {
        return EnumIds.parse("setting", name, values(), Setting::id);
    }

    @Override
    public String toString() {
        return id;
    }
}
