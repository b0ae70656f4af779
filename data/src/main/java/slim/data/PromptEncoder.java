package slim.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import slim.nn.SlimException;
import slim.nn.model.Family;

/**
 * Turns examples into model input for one task, setting and tokenizer. The prompt is the
 * demonstrations (the format with each label word filled in), one per line, then the query (the format
 * with its label left empty, so it ends with "Sentiment:" etc.); cls-plain is the query alone. In
 * lm-prompt the label tokens' shared start is appended.
 *
 * <p>A prompt longer than maxLength tokens (specials and appended tokens included) is shortened
 * deterministically: first the demonstrations' texts are cut from their ends, the longest first, down
 * to a common length (never their label lines), and only when they are empty the input's text; the
 * input's label line is never cut. {@link #shortened()} counts the prompts this happened to.
 */
public final class PromptEncoder {
    private final Task task;
    private final Setting setting;
    private final Tokenizer tokenizer;
    private final List<Example> demonstrations;
    private final int maxLength;
    private final LabelTokens labelTokens;
    private int shortened;

    public PromptEncoder(Task task, Setting setting, Tokenizer tokenizer, List<Example> demonstrations, int maxLength) {
        if (setting == Setting.LM_PROMPT && tokenizer.family() == Family.BERT) {
            throw new SlimException("lm-prompt needs a decoder model with an LM head; "
                    + tokenizer.model().dir() + " is a BERT encoder");
        }
        if (maxLength <= 0) throw new SlimException("the maximum prompt length must be positive, not " + maxLength);
        this.task = task;
        this.setting = setting;
        this.tokenizer = tokenizer;
        this.demonstrations = setting.hasDemonstrations() ? List.copyOf(demonstrations) : List.of();
        this.maxLength = maxLength;
        this.labelTokens = setting == Setting.LM_PROMPT
                ? LabelTokens.of(task, tokenizer, prompt(texts(this.demonstrations), firstText(demonstrations)))
                : null;
    }

    /** The model's context window from the tokenizer's folder (config.json), or the fallback when it has none. */
    public static int contextWindow(Tokenizer tokenizer, int fallback) {
        int n = tokenizer.model().maxPositions();
        return n > 0 ? n : fallback;
    }

    private static String firstText(List<Example> demonstrations) {
        return demonstrations.isEmpty() ? "text" : demonstrations.getFirst().text();
    }

    /** The label tokens in lm-prompt; null in the cls settings. */
    public LabelTokens labelTokens() {
        return labelTokens;
    }

    /** How many prompts encoded so far had to be shortened. */
    public int shortened() {
        return shortened;
    }

    /** The full prompt text for an example, before any shortening. */
    public String promptText(Example e) {
        return prompt(texts(demonstrations), e.text());
    }

    public List<EncodedExample> encodeAll(List<Example> examples) {
        List<EncodedExample> out = new ArrayList<>(examples.size());
        for (Example e : examples) out.add(encode(e));
        return out;
    }

    public EncodedExample encode(Example e) {
        String[] demoTexts = texts(demonstrations);
        String query = e.text();
        int[] ids = ids(prompt(demoTexts, query));
        if (ids.length <= maxLength) return new EncodedExample(ids, e.label());
        shortened++;
        for (int guard = 0; ids.length > maxLength; guard++) {
            if (guard > 1000)
                throw new SlimException("cannot shorten the " + task.id() + " prompt for row " + e.row() + " to "
                        + maxLength + " tokens");
            int excess = ids.length - maxLength;
            int[] lengths = new int[demoTexts.length];
            int total = 0;
            for (int i = 0; i < demoTexts.length; i++) total += lengths[i] = tokenizer.count(demoTexts[i]);
            if (total > 0) {
                int cap = cap(lengths, total - excess);
                for (int i = 0; i < demoTexts.length; i++) {
                    if (lengths[i] > cap) demoTexts[i] = shorter(demoTexts[i], lengths[i], cap);
                }
            } else {
                int length = tokenizer.count(query);
                if (length == 0) {
                    throw new SlimException("the " + task.id() + " " + setting.id() + " prompt is " + ids.length
                            + " tokens with every text cut away, over the limit of " + maxLength);
                }
                query = shorter(query, length, Math.max(0, length - excess));
            }
            ids = ids(prompt(demoTexts, query));
        }
        return new EncodedExample(ids, e.label());
    }

    /**
     * The text cut to about n tokens, and always to fewer than it had: a cut can encode to more tokens
     * than asked (sentencepiece's "▁U" may become "▁", "U"), and every round must make progress.
     */
    private String shorter(String text, int length, int n) {
        String kept = tokenizer.keepTokens(text, n);
        while (!kept.isEmpty() && tokenizer.count(kept) >= length) kept = tokenizer.keepTokens(text, --n);
        return kept;
    }

    /**
     * The largest per-text cap whose capped lengths sum to at most budget: cutting every text to it
     * shortens the longest first and leaves short demonstrations whole. Always below the longest, so
     * every round cuts something.
     */
    static int cap(int[] lengths, int budget) {
        int longest = Arrays.stream(lengths).max().orElse(0);
        for (int cap = longest - 1; cap > 0; cap--) {
            int sum = 0;
            for (int l : lengths) sum += Math.min(l, cap);
            if (sum <= budget) return cap;
        }
        return 0;
    }

    private int[] ids(String prompt) {
        int[] ids = tokenizer.encodeInput(prompt);
        if (labelTokens == null || labelTokens.appended().length == 0) return ids;
        int[] appended = labelTokens.appended();
        int[] out = Arrays.copyOf(ids, ids.length + appended.length);
        System.arraycopy(appended, 0, out, ids.length, appended.length);
        return out;
    }

    private static String[] texts(List<Example> examples) {
        return examples.stream().map(Example::text).toArray(String[]::new);
    }

    private String prompt(String[] demoTexts, String query) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < demoTexts.length; i++) {
            b.append(task.fill(
                            demoTexts[i],
                            task.labelWords().get(demonstrations.get(i).label())))
                    .append('\n');
        }
        return b.append(task.fill(query, "")).toString();
    }
}
