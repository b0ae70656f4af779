package slim.experiments;

import java.util.Map;

/**
 * Everything one cell produced, as its JSON result file holds it (keys in snake_case): the
 * configuration, the rows the seed drew, the validation curve, the test accuracy of the best
 * validation epoch, and what the run cost. A failed cell (the loss became NaN, say) has status
 * "failed", its error, and no test accuracy.
 *
 * @param model            the model folder as given
 * @param modelName        the folder's name, which reports group by
 * @param modelLayers      layers of the full model, of which keep were kept
 * @param pooling          which hidden state the classification head read (last, first = [CLS], mean); null in lm-prompt
 * @param split            0-based data rows of the demonstrations and the train, val and test examples
 * @param labelTokens      lm-prompt: the token predicting each class; null otherwise
 * @param appendedTokens   lm-prompt: tokens appended to every prompt before the label token
 * @param longestPrompt    tokens of the longest encoded prompt (the model was sized for it)
 * @param shortenedPrompts prompts that were cut to fit the maximum prompt length
 * @param majorityAccuracy test accuracy of always answering the most frequent test class
 * @param paramsKept       parameters of the first-k model, head included
 * @param headParams       parameters of the classification head (0 in lm-prompt)
 * @param tokensPerSecond  training tokens per second of training time
 * @param peakHeapBytes    the JVM heap's peak during the cell
 * @param peakRssBytes     the process's peak resident memory so far (Linux; 0 elsewhere)
 */
public record Result(
        String model, String modelName, String modelType, int modelLayers, int hidden, int keep,
        String task, String setting, int seed, String pooling, Protocol protocol,
        String status, String error,
        Map<String, int[]> split, int[] labelTokens, int[] appendedTokens, int longestPrompt, int shortenedPrompts,
        double[] valAccuracy, double[] trainLoss, int bestEpoch, double bestValAccuracy, boolean stoppedEarly,
        Double testAccuracy, double majorityAccuracy,
        long paramsKept, long headParams, double wallSeconds, double trainSeconds, double evalSeconds,
        double tokensPerSecond, long peakHeapBytes, long peakRssBytes) {

    public static final String OK = "ok", FAILED = "failed";

    public boolean ok() {
        return OK.equals(status);
    }

    /** Parameters of the kept model without the classification head, as the paper counts them. */
    public long backboneParams() {
        return paramsKept - headParams;
    }
}
