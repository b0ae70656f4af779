package slim.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import slim.data.Split;

/**
 * The training protocol of one cell: every hyper-parameter of the study, each with a command-line
 * flag. {@link #study()} is the paper's; the demo shortens it.
 *
 * @param lr               AdamW learning rate
 * @param weightDecay      AdamW decoupled weight decay (PyTorch's default)
 * @param epochs           most passes over the training examples
 * @param patience         stop after this many epochs without a better validation accuracy
 * @param trainExamples    training examples drawn per seed
 * @param valExamples      validation examples (most; the split takes all when the pool is smaller)
 * @param testExamples     test examples (most; all of the test set when it has fewer)
 * @param maxPromptTokens  longest prompt; longer ones are shortened (0: the model's context window)
 * @param labelWordsLoss   lm-prompt: cross-entropy over the label tokens only instead of the whole vocabulary
 * @param freezeEmbeddings leave the word-embedding table out of the update
 * @param dropout          train with the dropout the model's config asks for
 * @param prefixCache      evaluation runs the prompt prefix all examples share once per pass (decoders; the same
 *                         predictions as without, in less time)
 */
public record Protocol(
        float lr,
        float weightDecay,
        int epochs,
        int patience,
        int trainExamples,
        int valExamples,
        int testExamples,
        int maxPromptTokens,
        boolean labelWordsLoss,
        boolean freezeEmbeddings,
        boolean dropout,
        boolean prefixCache) {

    public Protocol {
        if (!(lr > 0) || Float.isInfinite(lr))
            throw new IllegalArgumentException("--lr must be a positive number, not " + lr);
        if (weightDecay < 0)
            throw new IllegalArgumentException("--weight-decay must not be negative, not " + weightDecay);
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, not " + epochs);
        if (patience < 1) throw new IllegalArgumentException("--patience must be at least 1, not " + patience);
        if (trainExamples < 1 || valExamples < 1 || testExamples < 1) {
            throw new IllegalArgumentException("--train, --val and --test must each be at least 1");
        }
        if (maxPromptTokens < 0) throw new IllegalArgumentException("--max-prompt-tokens must not be negative");
    }

    /**
     * What was set differently in other than in this protocol, named as result files spell it, e.g.
     * "max_prompt_tokens 512 in the file, 128 now" (whereOther "in the file", whereThis "now"); null when they are
     * equal. A message that printed both records whole left the reader to find the one value in twelve that differs.
     */
    public String difference(Protocol other, String whereOther, String whereThis) {
        if (equals(other)) return null;
        JsonNode here = ResultFiles.JSON.valueToTree(this), there = ResultFiles.JSON.valueToTree(other);
        List<String> differences = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : here.properties()) {
            JsonNode theirs = there.get(field.getKey());
            if (!field.getValue().equals(theirs)) {
                differences.add(
                        field.getKey() + " " + theirs + " " + whereOther + ", " + field.getValue() + " " + whereThis);
            }
        }
        return String.join("; ", differences);
    }

    /** The study's protocol: lr 5e-5, 50 epochs, patience 15, 200 / 1000 / 1000 examples. */
    public static Protocol study() {
        return new Builder().build();
    }

    /** A builder starting from the study's protocol. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this protocol's values, to change some of them by name. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.lr = lr;
        b.weightDecay = weightDecay;
        b.epochs = epochs;
        b.patience = patience;
        b.trainExamples = trainExamples;
        b.valExamples = valExamples;
        b.testExamples = testExamples;
        b.maxPromptTokens = maxPromptTokens;
        b.labelWordsLoss = labelWordsLoss;
        b.freezeEmbeddings = freezeEmbeddings;
        b.dropout = dropout;
        b.prefixCache = prefixCache;
        return b;
    }

    /** Protocol values by name, starting from the study's; {@link #build()} validates them. */
    public static final class Builder {
        private float lr = 5e-5f, weightDecay = 0.01f;
        private int epochs = 50, patience = 15;
        private int trainExamples = Split.STUDY_TRAIN, valExamples = Split.STUDY_VAL, testExamples = Split.STUDY_TEST;
        private int maxPromptTokens;
        private boolean labelWordsLoss, freezeEmbeddings, dropout = true, prefixCache = true;

        public Builder lr(float v) {
            lr = v;
            return this;
        }

        public Builder weightDecay(float v) {
            weightDecay = v;
            return this;
        }

        public Builder epochs(int v) {
            epochs = v;
            return this;
        }

        public Builder patience(int v) {
            patience = v;
            return this;
        }

        /** Training, validation and test examples per seed. */
        public Builder examples(int train, int val, int test) {
            trainExamples = train;
            valExamples = val;
            testExamples = test;
            return this;
        }

        public Builder trainExamples(int v) {
            trainExamples = v;
            return this;
        }

        public Builder valExamples(int v) {
            valExamples = v;
            return this;
        }

        public Builder testExamples(int v) {
            testExamples = v;
            return this;
        }

        public Builder maxPromptTokens(int v) {
            maxPromptTokens = v;
            return this;
        }

        public Builder labelWordsLoss(boolean v) {
            labelWordsLoss = v;
            return this;
        }

        public Builder freezeEmbeddings(boolean v) {
            freezeEmbeddings = v;
            return this;
        }

        public Builder dropout(boolean v) {
            dropout = v;
            return this;
        }

        public Builder prefixCache(boolean v) {
            prefixCache = v;
            return this;
        }

        public Protocol build() {
            return new Protocol(
                    lr,
                    weightDecay,
                    epochs,
                    patience,
                    trainExamples,
                    valExamples,
                    testExamples,
                    maxPromptTokens,
                    labelWordsLoss,
                    freezeEmbeddings,
                    dropout,
                    prefixCache);
        }
    }
}
