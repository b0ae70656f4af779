package slim.experiments;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import slim.data.EncodedExample;
import slim.data.Split;
import slim.nn.SplitMix;
import slim.nn.model.Model;
import slim.nn.optim.AdamW;

/**
 * The study's training loop for one cell, batch size 1: each epoch visits the training examples in
 * a fresh order drawn from the seed, steps AdamW after every example, then measures validation
 * accuracy; the weights of the best validation epoch are kept and evaluated on the test examples.
 * Training stops early after {@code patience} epochs without a validation gain, and at once when the
 * loss stops being a finite number. An {@link Evaluator} measures the accuracies.
 */
public final class Trainer {

    /** Told how training goes, for progress bars. */
    public interface Listener {
        default void step(int epoch, int done, int total) {}

        default void epoch(int epoch, double meanLoss, double valAccuracy, double bestValAccuracy) {}

        default void evaluating(String part, int done, int total) {}

        Listener NONE = new Listener() {};
    }

    /**
     * What training produced.
     *
     * @param valAccuracy    validation accuracy after each epoch run
     * @param trainLoss      mean training loss of each epoch run
     * @param bestEpoch      1-based epoch whose weights were kept (0 when none finished)
     * @param testAccuracy   accuracy of the kept weights on the test examples; NaN when training failed
     * @param failure        why the cell stopped without a result, or null
     * @param trainTokens    tokens the training steps processed
     * @param prefixTokens   prompt tokens an evaluation pass cached (the most of any pass; a pass of one example
     *                       caches nothing)
     * @param valPredictions the best epoch's answers on the validation examples; null when none finished
     * @param testPredictions the kept weights' answers on the test examples; null when training failed
     */
    public record Outcome(
            double[] valAccuracy,
            double[] trainLoss,
            int bestEpoch,
            double bestValAccuracy,
            double testAccuracy,
            String failure,
            boolean stoppedEarly,
            long trainTokens,
            double trainSeconds,
            double evalSeconds,
            int prefixTokens,
            Predictions valPredictions,
            Predictions testPredictions) {
        public boolean failed() {
            return failure != null;
        }

        public int epochsRun() {
            return valAccuracy.length;
        }
    }

    private final Model model;
    private final Classifier classifier;
    private final AdamW optimizer;
    private final Protocol protocol;
    private final Evaluator evaluator;

    public Trainer(Model model, Classifier classifier, AdamW optimizer, Protocol protocol) {
        this.model = model;
        this.classifier = classifier;
        this.optimizer = optimizer;
        this.protocol = protocol;
        this.evaluator = new Evaluator(classifier, protocol.prefixCache());
    }

    public Outcome fit(
            List<EncodedExample> train,
            List<EncodedExample> val,
            List<EncodedExample> test,
            long seed,
            Listener listener) {
        try (BestWeights bestWeights = new BestWeights(model.layout().size())) {
            return fit(train, val, test, seed, listener, bestWeights);
        }
    }

    private Outcome fit(
            List<EncodedExample> train,
            List<EncodedExample> val,
            List<EncodedExample> test,
            long seed,
            Listener listener,
            BestWeights bestWeights) {
        Random order = new Random(seed);
        int[] visit = new int[train.size()];
        for (int i = 0; i < visit.length; i++) visit[i] = i;
        double[] valCurve = new double[protocol.epochs()], lossCurve = new double[protocol.epochs()];
        double best = -1;
        int bestEpoch = 0, epochs = 0;
        Predictions bestAnswers = null;
        long tokens = 0, trainNanos = 0, evalNanos = 0;
        int prefixTokens = 0;
        String failure = null;
        float[] params = model.params().block;

        for (int epoch = 1; epoch <= protocol.epochs() && failure == null; epoch++) {
            long start = System.nanoTime();
            Split.shuffle(visit, order);
            if (protocol.dropout()) model.train(SplitMix.nth(seed, epoch)); // a dropout seed per epoch
            else model.eval();
            double lossSum = 0;
            for (int i = 0; i < visit.length; i++) {
                EncodedExample e = train.get(visit[i]);
                model.zeroGrad();
                classifier.computeLoss(e.ids(), e.label());
                model.backward();
                optimizer.step();
                // Read once the whole step is recorded, so that a device runs it without waiting for the host. A
                // loss that is not finite has then reached the weights, but it stops the cell: they are neither
                // tested nor saved.
                float loss = model.lossValue();
                if (!Float.isFinite(loss)) {
                    failure = "the training loss became " + loss + " at epoch " + epoch + ", step " + (i + 1) + " (lr "
                            + protocol.lr() + "); the cell stopped: try a lower --lr";
                    break;
                }
                lossSum += loss;
                tokens += e.ids().length;
                listener.step(epoch, i + 1, visit.length);
            }
            trainNanos += System.nanoTime() - start;
            model.kernels().read(model.params().all);
            if (failure == null && !allFinite(params)) {
                failure = "the weights stopped being finite numbers in epoch " + epoch + " (lr " + protocol.lr()
                        + "); the cell stopped: try a lower --lr";
            }
            if (failure != null) break;
            start = System.nanoTime();
            Predictions answers = evaluator.predictions(val, "validation", listener);
            double acc = answers.accuracy();
            evalNanos += System.nanoTime() - start;
            prefixTokens = Math.max(prefixTokens, evaluator.prefixTokens());
            valCurve[epochs] = acc;
            lossCurve[epochs] = lossSum / visit.length;
            epochs++;
            if (acc > best) {
                best = acc;
                bestEpoch = epoch;
                bestAnswers = answers;
                // The last epoch's weights stay where they are: no copy out and back (186 MB for GPT-2 at k = 1).
                if (epoch < protocol.epochs()) bestWeights.keep(params);
            }
            listener.epoch(epoch, lossSum / visit.length, acc, best);
            if (epoch - bestEpoch >= protocol.patience()) break;
        }
        double testAcc = Double.NaN;
        Predictions testAnswers = null;
        if (failure == null && bestEpoch != epochs) {
            bestWeights.restore(params);
            model.kernels().write(model.params().all);
        }
        if (failure == null) {
            long start = System.nanoTime();
            testAnswers = evaluator.predictions(test, "test", listener);
            testAcc = testAnswers.accuracy();
            evalNanos += System.nanoTime() - start;
            prefixTokens = Math.max(prefixTokens, evaluator.prefixTokens());
        }
        boolean early = failure == null && epochs < protocol.epochs();
        return new Outcome(
                Arrays.copyOf(valCurve, epochs),
                Arrays.copyOf(lossCurve, epochs),
                bestEpoch,
                Math.max(best, 0),
                testAcc,
                failure,
                early,
                tokens,
                trainNanos / 1e9,
                evalNanos / 1e9,
                prefixTokens,
                bestAnswers,
                testAnswers);
    }

    private static boolean allFinite(float[] a) {
        float sum = 0;
        for (float x : a) sum += x * 0f; // NaN or infinity anywhere makes the sum NaN
        return sum == 0f;
    }
}
