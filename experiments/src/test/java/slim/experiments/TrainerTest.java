package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import slim.data.EncodedExample;
import slim.nn.Shared;
import slim.nn.model.Model;
import slim.nn.model.ModelFiles;
import slim.nn.model.Pooling;
import slim.nn.optim.AdamW;

/**
 * Training on a golden checkpoint (a tiny random Llama) with a toy task the model can learn: the
 * first token names the class, the rest is noise. Both heads must lower the loss and raise accuracy
 * from chance to near 1.
 */
class TrainerTest {
    static final Path LLAMA = Shared.resolve("golden", "llama-tiny");
    /** The class markers and, for the LM head, the label tokens. */
    static final int[] MARKERS = {10, 11}, LABEL_TOKENS = {5, 6};

    static List<EncodedExample> toyTask(int n, long seed) {
        Random r = new Random(seed);
        List<EncodedExample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int label = r.nextInt(2);
            int[] ids = new int[6 + r.nextInt(4)];
            ids[0] = MARKERS[label];
            for (int t = 1; t < ids.length; t++) ids[t] = 20 + r.nextInt(60);
            out.add(new EncodedExample(ids, label));
        }
        return out;
    }

    static Model load(int labels) {
        return ModelFiles.load(
                LLAMA,
                3,
                ModelFiles.Options.builder()
                        .trainable()
                        .maxTokens(16)
                        .headRows(1)
                        .labels(labels, Pooling.LAST, 7)
                        .build());
    }

    static Protocol toyProtocol(float lr) {
        return Protocol.builder()
                .lr(lr)
                .epochs(8)
                .patience(8)
                .examples(48, 32, 64)
                .build();
    }

    private static void learns(Model model, int[] labelTokens) {
        Protocol p = toyProtocol(3e-3f);
        Classifier classifier = new Classifier(model, labelTokens, false);
        Trainer trainer = new Trainer(model, classifier, AdamW.withDefaults(model, p.lr()), p);
        List<EncodedExample> train = toyTask(48, 1), val = toyTask(32, 2), test = toyTask(64, 3);
        double before = new Evaluator(classifier, true).accuracy(test, "test", Trainer.Listener.NONE);
        Trainer.Outcome o = trainer.fit(train, val, test, 0, Trainer.Listener.NONE);

        assertFalse(o.failed(), o.failure());
        assertEquals(8, o.epochsRun());
        double[] loss = o.trainLoss();
        assertTrue(loss[loss.length - 1] < 0.5 * loss[0], "loss should fall: " + Arrays.toString(loss));
        assertTrue(o.testAccuracy() >= 0.9, "test accuracy " + o.testAccuracy() + " (before training " + before + ")");
        assertTrue(o.testAccuracy() > before + 0.2, "accuracy should rise from " + before + " to " + o.testAccuracy());
        assertEquals(o.valAccuracy()[o.bestEpoch() - 1], o.bestValAccuracy());
        assertTrue(o.trainTokens() > 8 * 48 * 6);
    }

    @Test
    void classificationHeadLearnsTheToyTask() {
        learns(load(2), null);
    }

    @Test
    void lmHeadLearnsTheLabelTokens() {
        learns(load(0), LABEL_TOKENS);
    }

    @Test
    void theBestValidationEpochsWeightsAreTheOnesTested() {
        Model model = load(2);
        Protocol p = toyProtocol(3e-3f).toBuilder().epochs(4).patience(4).build();
        Classifier classifier = new Classifier(model, null, false);
        Trainer trainer = new Trainer(model, classifier, AdamW.withDefaults(model, p.lr()), p);
        List<EncodedExample> val = toyTask(32, 2);
        Trainer.Outcome o = trainer.fit(toyTask(48, 1), val, val, 0, Trainer.Listener.NONE);
        // testing on the validation set itself must give back the best validation accuracy
        assertEquals(o.bestValAccuracy(), o.testAccuracy(), 1e-12);
    }

    @Test
    void earlyStoppingEndsAfterPatienceEpochsWithoutGain() {
        Model model = load(2);
        Protocol p = toyProtocol(1e-9f).toBuilder()
                .epochs(20)
                .patience(2)
                .build(); // too small a rate to change any prediction
        Trainer trainer = new Trainer(model, new Classifier(model, null, false), AdamW.withDefaults(model, p.lr()), p);
        Trainer.Outcome o = trainer.fit(toyTask(16, 1), toyTask(16, 2), toyTask(16, 3), 0, Trainer.Listener.NONE);
        assertEquals(3, o.epochsRun(), "epoch 1 is best; epochs 2 and 3 bring no gain");
        assertEquals(1, o.bestEpoch());
        assertTrue(o.stoppedEarly());
    }

    @Test
    void aLossThatBlowsUpStopsTheCellWithAMessage() {
        Model model = load(2);
        Protocol p = toyProtocol(1e30f);
        Trainer trainer = new Trainer(model, new Classifier(model, null, false), AdamW.withDefaults(model, p.lr()), p);
        Trainer.Outcome o = trainer.fit(toyTask(48, 1), toyTask(16, 2), toyTask(16, 3), 0, Trainer.Listener.NONE);
        assertTrue(o.failed());
        assertNotNull(o.failure());
        assertTrue(o.failure().contains("lower --lr"), o.failure());
        assertTrue(Double.isNaN(o.testAccuracy()), "no accuracy for a failed cell");
    }
}
