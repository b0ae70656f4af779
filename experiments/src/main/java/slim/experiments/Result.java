package slim.experiments;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import slim.data.Setting;
import slim.nn.model.KeptLayers;
import slim.nn.model.LayerScores;
import slim.nn.model.LayerSelection;
import slim.nn.model.ModelConfig;

/**
 * Everything one cell produced, as its JSON result file holds it (keys in snake_case), grouped by
 * meaning: which cell it was, the protocol it ran under, the prompts its seed drew, the curves and
 * accuracies it reached, what it cost, and the layer scores its kept layers were chosen by (none
 * for the first k or a given set). A failed cell (the loss became NaN, say) has status
 * "failed", its error, and no test accuracy.
 */
public record Result(CellInfo cell, Protocol protocol, String status, String error, Prompts prompts, Curves curves,
                     Costs costs, LayerScores layerScores) {

    public static final String OK = "ok", FAILED = "failed";

    /**
     * Which cell this is.
     *
     * @param model       the model folder as given
     * @param modelName   the folder's name, which reports group by
     * @param modelType   the family's Hugging Face model_type; null when the cell failed before reading it
     * @param modelLayers layers of the full model, of which keep were kept
     * @param selection   how the kept layers were chosen: first, bi, angular, or given
     * @param layers      the kept layers' original indices; null when the cell failed before choosing them
     * @param pooling     which hidden state the classification head read (last, first = [CLS], mean); null in
     *                    lm-prompt
     */
    public record CellInfo(String model, String modelName, String modelType, int modelLayers, int hidden, int keep,
                           String selection, List<Integer> layers, String task, String setting, int seed,
                           String pooling) {

        /** The cell as run on a model with this config (null: the config could not be read), keeping kept (nullable). */
        public static CellInfo of(Cell cell, ModelConfig config, KeptLayers kept) {
            boolean lm = cell.setting() == Setting.LM_PROMPT;
            return new CellInfo(cell.model().toString(), cell.modelName(),
                    config == null ? null : config.family().modelType(), config == null ? 0 : config.layers(),
                    config == null ? 0 : config.hidden(), cell.keep(), cell.layers().label(),
                    kept == null ? null : kept.indices(), cell.task().id(), cell.setting().id(),
                    cell.seed(), lm || config == null ? null : cell.pooling().name().toLowerCase(Locale.ROOT));
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
     * @param shortenedPrompts prompts that were cut to fit the maximum prompt length
     * @param prefixTokens     leading tokens every prompt of an evaluation pass shared, run once per pass from a
     *                         cache (the fewest of any pass; 0 for encoders and with --no-prefix-cache)
     */
    public record Prompts(Map<String, int[]> split, int[] labelTokens, int[] appendedTokens, int longestPrompt,
                          int shortenedPrompts, int prefixTokens) {}

    /**
     * How training went and what the kept weights scored.
     *
     * @param valAccuracy      validation accuracy after each epoch run
     * @param trainLoss        mean training loss of each epoch run
     * @param bestEpoch        1-based epoch whose weights were kept (0 when none finished)
     * @param testAccuracy     test accuracy of the best validation epoch; null when the cell failed
     * @param majorityAccuracy test accuracy of always answering the most frequent test class
     */
    public record Curves(double[] valAccuracy, double[] trainLoss, int bestEpoch, double bestValAccuracy,
                         boolean stoppedEarly, Double testAccuracy, double majorityAccuracy) {

        static Curves of(Trainer.Outcome o, double majorityAccuracy) {
            return new Curves(o.valAccuracy(), o.trainLoss(), o.bestEpoch(), o.bestValAccuracy(), o.stoppedEarly(),
                    o.failed() ? null : o.testAccuracy(), majorityAccuracy);
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
    public record Costs(long paramsKept, long headParams, double wallSeconds, double trainSeconds, double evalSeconds,
                        double tokensPerSecond, long peakHeapBytes, long peakRssBytes) {

        /** The costs of a cell that trained: times from its outcome, peaks from {@link Memory}. */
        static Costs measured(long paramsKept, long headParams, double wallSeconds, Trainer.Outcome o) {
            double perSecond = o.trainSeconds() > 0 ? o.trainTokens() / o.trainSeconds() : 0;
            return new Costs(paramsKept, headParams, wallSeconds, o.trainSeconds(), o.evalSeconds(), perSecond,
                    Memory.peakHeapBytes(), Memory.peakRssBytes());
        }
    }

    /** The result of a cell that could not run: which cell, under what protocol, and why. */
    public static Result failure(Cell cell, Protocol protocol, String error) {
        KeptLayers kept = cell.layers().needsScores() ? null : cell.layers().kept(null);
        return new Result(CellInfo.of(cell, null, kept), protocol, FAILED, error, null, null, null, null);
    }

    public boolean ok() {
        return OK.equals(status);
    }

    /** Parameters of the kept model without the classification head, as the paper counts them. */
    public long backboneParams() {
        return costs.paramsKept() - costs.headParams();
    }
}
