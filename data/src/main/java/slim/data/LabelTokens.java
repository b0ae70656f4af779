package slim.data;

import java.util.Arrays;
import slim.nn.SlimException;

/**
 * What the LM head predicts in lm-prompt: each label word (with its leading space) is encoded right
 * after a prompt; the tokens all labels share at their start are appended to the prompt, and each
 * label's next token is its target. With GPT-2 every label word is one token and nothing is appended;
 * with a sentencepiece tokenizer " Negative" and " Positive" both begin with the bare "▁", which joins
 * the prompt, and "N" / "P" are the targets. The words are encoded after a real prompt, not alone,
 * because sentencepiece prepends "▁" to every text it encodes: alone, " Negative" would start with
 * two of them.
 */
public record LabelTokens(int[] appended, int[] targets) {

    /** The label tokens of a task, found by encoding each label word after the prompt. */
    public static LabelTokens of(Task task, Tokenizer tokenizer, String prompt) {
        return of(task.id(), task.labelWords(), tokenizer, prompt);
    }

    static LabelTokens of(String task, java.util.List<String> words, Tokenizer tokenizer, String prompt) {
        int[] base = tokenizer.encode(prompt);
        int n = words.size();
        int[][] full = new int[n][];
        for (int c = 0; c < n; c++) {
            full[c] = tokenizer.encode(prompt + words.get(c));
            if (full[c].length <= base.length || !Arrays.equals(full[c], 0, base.length, base, 0, base.length)) {
                throw new SlimException(task + ": with this tokenizer the label word '" + words.get(c)
                        + "' changes the tokens of the prompt before it, so no token sequence can be its target");
            }
        }
        int shared = base.length;
        while (sharedAt(full, shared)) shared++;
        int[] targets = new int[n];
        for (int c = 0; c < n; c++) {
            if (full[c].length == shared) {
                throw new SlimException(task + ": label word '" + words.get(c)
                        + "' is the start of another label word, so it has no token of its own to predict");
            }
            targets[c] = full[c][shared];
            for (int d = 0; d < c; d++) {
                if (targets[d] == targets[c]) {
                    throw new SlimException(task + ": labels '" + words.get(d).strip() + "' and '"
                            + words.get(c).strip() + "' share their target token " + targets[c]
                            + " after the shared tokens " + Arrays.toString(Arrays.copyOfRange(full[c], base.length, shared))
                            + "; the LM head could not tell them apart");
                }
            }
        }
        return new LabelTokens(Arrays.copyOfRange(full[0], base.length, shared), targets);
    }

    private static boolean sharedAt(int[][] full, int i) {
        for (int[] f : full) if (f.length <= i || f[i] != full[0][i]) return false;
        return true;
    }

    @Override
    public int[] appended() {
        return appended.clone();
    }

    @Override
    public int[] targets() {
        return targets.clone();
    }

    @Override
    public String toString() {
        return "LabelTokens[appended=" + Arrays.toString(appended) + ", targets=" + Arrays.toString(targets) + "]";
    }
}
