package slim.experiments.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import slim.experiments.Protocol;

/** The training protocol's flags, shared by train, grid and demo; unset flags keep the base protocol's value. */
final class ProtocolOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--lr", paramLabel = "RATE", description = "AdamW learning rate (study: 5e-5)")
    Float lr;

    @Option(
            names = "--weight-decay",
            paramLabel = "W",
            description = "AdamW weight decay (study: 0.01, PyTorch's default)")
    Float weightDecay;

    @Option(names = "--epochs", paramLabel = "N", description = "most epochs (study: 50)")
    Integer epochs;

    @Option(
            names = "--patience",
            paramLabel = "N",
            description = "stop after N epochs without a validation gain (study: 15)")
    Integer patience;

    @Option(names = "--train", paramLabel = "N", description = "training examples per seed (study: 200)")
    Integer train;

    @Option(names = "--val", paramLabel = "N", description = "validation examples (study: 1000)")
    Integer val;

    @Option(
            names = "--test",
            paramLabel = "N",
            description = "most test examples (study: 1000; all when the test set is smaller)")
    Integer test;

    @Option(
            names = "--max-prompt-tokens",
            paramLabel = "N",
            description = "shorten longer prompts (demonstrations first) to N tokens (study: the model's context)")
    Integer maxPromptTokens;

    @Option(
            names = "--label-words-loss",
            negatable = true,
            description =
                    "lm-prompt: train with cross-entropy over the label tokens only (study: the whole vocabulary)")
    Boolean labelWordsLoss;

    @Option(
            names = "--freeze-embeddings",
            negatable = true,
            description = "leave the word-embedding table out of the update (tied heads freeze with it)")
    Boolean freezeEmbeddings;

    @Option(names = "--dropout", negatable = true, description = "train with the model config's dropout (default: on)")
    Boolean dropout;

    @Option(
            names = "--prefix-cache",
            negatable = true,
            description = "evaluate decoders with the prompt prefix "
                    + "all examples share run once per pass (default: on; --no-prefix-cache runs every prompt whole)")
    Boolean prefixCache;

    /** The base protocol with every flag that was given applied. */
    Protocol apply(Protocol base) {
        Protocol.Builder b = base.toBuilder();
        if (lr != null) b.lr(lr);
        if (weightDecay != null) b.weightDecay(weightDecay);
        if (epochs != null) b.epochs(epochs);
        if (patience != null) b.patience(patience);
        if (train != null) b.trainExamples(train);
        if (val != null) b.valExamples(val);
        if (test != null) b.testExamples(test);
        if (maxPromptTokens != null) b.maxPromptTokens(maxPromptTokens);
        if (labelWordsLoss != null) b.labelWordsLoss(labelWordsLoss);
        if (freezeEmbeddings != null) b.freezeEmbeddings(freezeEmbeddings);
        if (dropout != null) b.dropout(dropout);
        if (prefixCache != null) b.prefixCache(prefixCache);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw Options.usage(spec, e.getMessage()); // a flag's value out of range
        }
    }
}
