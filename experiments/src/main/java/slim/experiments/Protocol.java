package slim.experiments;

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
 */
public record Protocol(float lr, float weightDecay, int epochs, int patience, int trainExamples, int valExamples,
                       int testExamples, int maxPromptTokens, boolean labelWordsLoss, boolean freezeEmbeddings,
                       boolean dropout) {

    public Protocol {
        if (!(lr > 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("--lr must be a positive number, not " + lr);
        if (weightDecay < 0) throw new IllegalArgumentException("--weight-decay must not be negative, not " + weightDecay);
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, not " + epochs);
        if (patience < 1) throw new IllegalArgumentException("--patience must be at least 1, not " + patience);
        if (trainExamples < 1 || valExamples < 1 || testExamples < 1) {
            throw new IllegalArgumentException("--train, --val and --test must each be at least 1");
        }
        if (maxPromptTokens < 0) throw new IllegalArgumentException("--max-prompt-tokens must not be negative");
    }

    /** The study's protocol: lr 5e-5, 50 epochs, patience 15, 200 / 1000 / 1000 examples. */
    public static Protocol study() {
        return new Protocol(5e-5f, 0.01f, 50, 15, Split.STUDY_TRAIN, Split.STUDY_VAL, Split.STUDY_TEST, 0,
                false, false, true);
    }

    public Protocol withEpochs(int epochs, int patience) {
        return new Protocol(lr, weightDecay, epochs, patience, trainExamples, valExamples, testExamples, maxPromptTokens,
                labelWordsLoss, freezeEmbeddings, dropout);
    }

    public Protocol withExamples(int train, int val, int test) {
        return new Protocol(lr, weightDecay, epochs, patience, train, val, test, maxPromptTokens, labelWordsLoss,
                freezeEmbeddings, dropout);
    }

    public Protocol withMaxPromptTokens(int tokens) {
        return new Protocol(lr, weightDecay, epochs, patience, trainExamples, valExamples, testExamples, tokens,
                labelWordsLoss, freezeEmbeddings, dropout);
    }

    public Protocol withLr(float lr) {
        return new Protocol(lr, weightDecay, epochs, patience, trainExamples, valExamples, testExamples, maxPromptTokens,
                labelWordsLoss, freezeEmbeddings, dropout);
    }

    public Protocol withFreezeEmbeddings(boolean freeze) {
        return new Protocol(lr, weightDecay, epochs, patience, trainExamples, valExamples, testExamples, maxPromptTokens,
                labelWordsLoss, freeze, dropout);
    }
}
