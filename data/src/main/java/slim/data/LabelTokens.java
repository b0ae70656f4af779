package slim.data;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import slim.nn.SlimException;

/**
 * What the LM head predicts in lm-prompt: each label word (with its leading space) is encoded right
 * after a prompt; the tokens all labels share at their start are appended to the prompt, and each
 * label's next token is its target. With GPT-2 every label word is one token and nothing is appended;
 * with a sentencepiece tokenizer " Negative" and " Positive" both begin with the bare "▁", which joins
 * the prompt, and "N" / "P" are the targets. Where that rule leaves two labels one target because some
 * words merge with their space and others do not (stories260K's " Location" starts with "▁L" while
 * " Abbreviation" starts with the bare "▁"), a second rule splits the space off for all of them; see
 * {@link #splitSpace}. The words are encoded after a real prompt, not alone,
 * because sentencepiece prepends "▁" to every text it encodes: alone, " Negative" would start with
 * two of them.
 */
public record LabelTokens(int[] appended, int[] targets) {

    /** The label tokens of a task, found by encoding each label word after the prompt. */
    public static LabelTokens of(Task task, Tokenizer tokenizer, String prompt) {
        return of(task.id(), task.labelWords(), tokenizer, prompt);
    }

    static LabelTokens of(String task, List<String> words, Tokenizer tokenizer, String prompt) {
        int[] base = tokenizer.encode(prompt);
        int n = words.size();
        int[][] full = new int[n][];
        for (int c = 0; c < n; c++) {
            full[c] = tokenizer.encode(prompt + words.get(c));
            if (full[c].length <= base.length || !startsWith(full[c], base)) {
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
        }
        int[] appended = Arrays.copyOfRange(full[0], base.length, shared);
        if (firstClash(targets) >= 0 && shared == base.length) {
            int[] split = splitSpace(words, tokenizer, prompt, base);
            if (split != null && firstClash(Arrays.copyOfRange(split, 1, split.length)) < 0) {
                return new LabelTokens(new int[] {split[0]}, Arrays.copyOfRange(split, 1, split.length));
            }
        }
        int clash = firstClash(targets);
        if (clash >= 0) {
            int d = 0;
            while (targets[d] != targets[clash]) d++;
            throw new SlimException(task + ": labels '" + words.get(d).strip() + "' and '"
                    + words.get(clash).strip()
                    + "' share their target token " + targets[clash] + " after the shared tokens "
                    + Arrays.toString(appended)
                    + "; the LM head could not tell them apart");
        }
        return new LabelTokens(appended, targets);
    }

    /**
     * The second rule, for sentencepiece vocabularies where some label words merge with their
     * space ("▁L" for " Location") and others do not ("▁" then "A" for " Abbreviation"), so that the
     * words share no first token yet several begin with the bare "▁": the prompt gets the token its
     * trailing space encodes to alone, and each label's target is its first character's token, the
     * one that follows the bare space in its own encoding, or the character's vocabulary entry (or
     * byte-fallback entry) where it merged. Returns {space token, targets...}, or null when the
     * tokenizer cannot split the space off.
     */
    private static int[] splitSpace(List<String> words, Tokenizer tokenizer, String prompt, int[] base) {
        int[] withSpace = tokenizer.encode(prompt + " ");
        if (withSpace.length != base.length + 1 || !startsWith(withSpace, base)) return null;
        int space = withSpace[base.length];
        int[] out = new int[words.size() + 1];
        out[0] = space;
        for (int c = 0; c < words.size(); c++) {
            String word = words.get(c);
            if (!word.startsWith(" ") || word.length() < 2) return null;
            int[] full = tokenizer.encode(prompt + word);
            if (full.length > withSpace.length && startsWith(full, withSpace)) {
                out[c + 1] = full[withSpace.length];
                continue;
            }
            String first = word.substring(1, 1 + Character.charCount(word.codePointAt(1)));
            int id = tokenizer.pieceId(first);
            if (id < 0)
                id = tokenizer.pieceId(String.format("<0x%02X>", first.getBytes(StandardCharsets.UTF_8)[0] & 0xFF));
            if (id < 0) return null;
            out[c + 1] = id;
        }
        return out;
    }

    private static boolean startsWith(int[] ids, int[] prefix) {
        return ids.length >= prefix.length && Arrays.equals(ids, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** The index of the first target equal to an earlier one, or -1. */
    private static int firstClash(int[] targets) {
        for (int c = 0; c < targets.length; c++) {
            for (int d = 0; d < c; d++) if (targets[d] == targets[c]) return c;
        }
        return -1;
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
