package slim.experiments;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import slim.data.Setting;
import slim.nn.kernels.Kernels;
import slim.nn.model.KeptLayers;
import slim.nn.model.LayerScores;
import slim.nn.model.LayerSelection;
import slim.nn.model.ModelConfig;

/**
 * Everything one cell produced, as its JSON result file holds it (keys in snake_case), grouped by
 * meaning: which cell it was, the protocol it ran under, which slim ran it and when, the prompts its
 * seed drew, the curves and accuracies it reached, what it cost, and the layer scores its kept layers
 * were chosen by (none for the first k or a given set), and what it was made from ({@link Origin}: the model's and
 * the data's identity). A failed cell (the loss became NaN, say) has
 * status "failed", its error, and no test accuracy. README.md documents the schema.
 *
 * @param schemaVersion {@link #SCHEMA_VERSION} when written; 0 in files from before it was recorded
 * @param origin        the model's and data's identity; null in files from before schema 3
 * @param predictions   the answers per example, written beside the JSON (ResultFiles), not in it; null
 *                      when read back or when the cell failed
 */
public record Result(
        int schemaVersion,
        CellInfo cell,
        Protocol protocol,
        Origin origin,
        String status,
        String error,
        RunInfo run,
        Prompts prompts,
        Curves curves,
        Costs costs,
        LayerScores layerScores,
        @JsonIgnore Answers predictions) {

    public static final String OK = "ok", FAILED = "failed";
    /**
     * 2: run, prompts.prompt_limit, pooling "cls" (was "first"), predictions beside the file. 3: origin (files of 2
     * are read, and reported when all of a folder's are; a grid does not count one as done, as it cannot tell which
     * model made it). 4: run.backend (files of 3 are read; theirs is null).
     */
    public static final int SCHEMA_VERSION = 4;

    /** The result of a cell, from its groups. */
    public static Result of(
            CellInfo cell,
            Protocol protocol,
            Origin origin,
            String error,
            RunInfo run,
            Prompts prompts,
            Curves curves,
            Costs costs,
            LayerScores layerScores,
            Answers predictions) {
        return new Result(
                SCHEMA_VERSION,
                cell,
                protocol,
                origin,
                error == null ? OK : FAILED,
                error,
                run,
                prompts,
                curves,
                costs,
                layerScores,
                predictions);
    }

    /**
     * Which slim ran the cell, and when.
     *
     * @param slimVersion the project's version
     * @param commit      the git commit slim was built from ("unknown" without git)
     * @param dirty       the build had changes not in that commit
     * @param started     when the cell started (ISO-8601, UTC); null for a cell that failed before it ran
     * @param finished    when its result was made
     * @param backend     the kernels the cell ran on, as {@link Kernels#name()} gives it (the CPU with
     *                    its threads and vector width, or the TornadoVM device); null for a cell that failed before
     *                    it ran, and in files from before schema 4
     */
    public record RunInfo(
            String slimVersion, String commit, boolean dirty, String started, String finished, String backend) {

        /** This build, from started until now, on the backend named (null: the cell did not get to run). */
        public static RunInfo since(Instant started, String backend) {
            Version v = Version.CURRENT;
            return new RunInfo(
                    v.version(),
                    v.commit(),
                    v.dirty(),
                    started == null ? null : started.toString(),
                    Instant.now().toString(),
                    backend);
        }
    }

    /** The answers of the best validation epoch and of the test pass. */
    public record Answers(Predictions val, Predictions test) {}

    /**
     * Which cell this is.
     *
     * @param model       the model folder as given
     * @param modelName   the folder's name, which reports group by
     * @param modelType   the family's Hugging Face model_type; null when the cell failed before reading it
     * @param modelLayers layers of the full model, of which keep were kept
     * @param selection   how the kept layers were chosen: first, bi, angular, or given
     * @param layers      the kept layers' original indices; null when the cell failed before choosing them
     * @param pooling     which hidden state the classification head read (last, cls, mean; as --pooling); null in
     *                    lm-prompt
     */
    public record CellInfo(
            String model,
            String modelName,
            String modelType,
            int modelLayers,
            int hidden,
            int keep,
            String selection,
            List<Integer> layers,
            String task,
            String setting,
            int seed,
            String pooling) {

        /**
         * The cell as run on a model with this config (null: the config could not be read), keeping kept (nullable).
         */
        public static CellInfo of(Cell cell, ModelConfig config, KeptLayers kept) {
            boolean lm = cell.setting() == Setting.LM_PROMPT;
            return new CellInfo(
                    cell.model().toString(),
                    cell.modelName(),
                    config == null ? null : config.family().modelType(),
                    config == null ? 0 : config.layers(),
                    config == null ? 0 : config.hidden(),
                    cell.keep(),
                    cell.layers().label(),
                    kept == null ? null : kept.indices(),
                    cell.task().id(),
                    cell.setting().id(),
                    cell.seed(),
                    lm || config == null ? null : cell.pooling().id());
        }

        /** first, bi, angular or given; first for results written before layers could be chosen. */
        public String selectionOrFirst() {
            return selection == null ? LayerSelection.FIRST.label() : selection;
        }
    }

    /**
     * The prompts the cell's seed drew and how they were encoded.
     *
     * @param split            0-based data rows of the demonstrations and the train, val and test examples
     * @param labelTokens      lm-prompt: the token predicting each class; null otherwise
     * @param appendedTokens   lm-prompt: tokens appended to every prompt before the label token
     * @param longestPrompt    tokens of the longest encoded prompt (the model was sized for it)
     * @param shortenedPrompts prompts that were cut to fit the prompt limit
     * @param prefixTokens     leading tokens the prompts of an evaluation pass shared, run once per pass from a
     *                         cache (the most of any pass; 0 for encoders and with --no-prefix-cache)
     * @param promptLimit      the prompt limit that applied, in tokens: --max-prompt-tokens, or the model's
     *                         context where that is 0 or longer
     */
    public record Prompts(
            Map<String, int[]> split,
            int[] labelTokens,
            int[] appendedTokens,
            int longestPrompt,
            int shortenedPrompts,
            int prefixTokens,
            int promptLimit) {}

    /**
     * How training went and what the kept weights scored.
     *
     * @param valAccuracy      validation accuracy after each epoch run
     * @param trainLoss        mean training loss of each epoch run
     * @param bestEpoch        1-based epoch whose weights were kept (0 when none finished)
     * @param testAccuracy     test accuracy of the best validation epoch; null when the cell failed
     * @param majorityAccuracy test accuracy of always answering the most frequent test class
     */
    public record Curves(
            double[] valAccuracy,
            double[] trainLoss,
            int bestEpoch,
            double bestValAccuracy,
            boolean stoppedEarly,
            Double testAccuracy,
            double majorityAccuracy) {

        static Curves of(Trainer.Outcome o, double majorityAccuracy) {
            return new Curves(
                    o.valAccuracy(),
                    o.trainLoss(),
                    o.bestEpoch(),
                    o.bestValAccuracy(),
                    o.stoppedEarly(),
                    o.failed() ? null : o.testAccuracy(),
                    majorityAccuracy);
        }
    }

    /**
     * What the cell cost.
     *
     * @param paramsKept      parameters of the kept model, head included
     * @param headParams      parameters of the classification head (0 in lm-prompt)
     * @param tokensPerSecond training tokens per second of training time
     * @param peakHeapBytes   the JVM heap's peak during the cell
     * @param peakRssBytes    the process's peak resident memory so far (Linux; 0 elsewhere)
     */
    public record Costs(
            long paramsKept,
            long headParams,
            double wallSeconds,
            double trainSeconds,
            double evalSeconds,
            double tokensPerSecond,
            long peakHeapBytes,
            long peakRssBytes) {

        /** The costs of a cell that trained: times from its outcome, peaks from {@link Memory}. */
        static Costs measured(long paramsKept, long headParams, double wallSeconds, Trainer.Outcome o) {
            double perSecond = o.trainSeconds() > 0 ? o.trainTokens() / o.trainSeconds() : 0;
            return new Costs(
                    paramsKept,
                    headParams,
                    wallSeconds,
                    o.trainSeconds(),
                    o.evalSeconds(),
                    perSecond,
                    Memory.peakHeapBytes(),
                    Memory.peakRssBytes());
        }
    }

    /** The result of a cell that could not run: which cell, under what protocol and origin, and why. */
    public static Result failure(Cell cell, Protocol protocol, Origin origin, String error) {
        KeptLayers kept = cell.layers().needsScores() ? null : cell.layers().kept(null);
        return of(
                CellInfo.of(cell, null, kept),
                protocol,
                origin,
                error,
                RunInfo.since(null, null),
                null,
                null,
                null,
                null,
                null);
    }

    /** The first part a result must have that this one lacks (read from a damaged or foreign file), or null. */
    String missingPart() {
        if (cell == null || cell.task() == null || cell.setting() == null || cell.modelName() == null)
            return "\"cell\"";
        if (protocol == null) return "\"protocol\"";
        if (!OK.equals(status) && !FAILED.equals(status)) return "\"status\" of ok or failed";
        if (ok() && (curves == null || curves.testAccuracy() == null)) return "test accuracy";
        if (ok() && costs == null) return "\"costs\"";
        return null;
    }

    public boolean ok() {
        return OK.equals(status);
    }

    /** Parameters of the kept model without the classification head, as the paper counts them. */
    public long backboneParams() {
        return costs.paramsKept() - costs.headParams();
    }
}
