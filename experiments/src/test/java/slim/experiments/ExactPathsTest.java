package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import slim.data.EncodedExample;
import slim.data.Setting;
import slim.data.Task;
import slim.data.Tokenizer;
import slim.nn.Shared;
import slim.nn.model.Model;
import slim.nn.model.ModelConfig;
import slim.nn.model.ModelFiles;
import slim.nn.model.Pooling;
import slim.nn.optim.AdamW;

/**
 * The paths that compute less train and predict as the full computation does, on the built-in models and real
 * prompts: the last block over the head's rows only (training losses over a few steps, with the config's dropout)
 * and evaluation with the shared prompt prefix cached (the predictions over a validation split).
 */
class ExactPathsTest {
    private static final Protocol PROTOCOL =
            Protocol.builder().examples(4, 16, 1).lr(1e-3f).maxPromptTokens(256).build();

    @ParameterizedTest(name = "{0} k={1} {2} {3}")
    @CsvSource({
        "stories260K,        2, trec, lm-prompt",
        "stories260K,        5, sst2, cls-prompt",
        "stories260K,        1, sst2, cls-plain",
        "all-MiniLM-L6-v2,   1, sst2, cls-prompt",
        "all-MiniLM-L6-v2,   2, trec, cls-plain"
    })
    void sameLossesAndPredictions(String modelName, int keep, String task, String setting) {
        Path dir = Shared.resolve("models", modelName);
        Cell cell = Cell.of(dir, keep, Task.parse(task), Setting.parse(setting), 0, Pooling.FIRST);
        Experiment.Prepared p;
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            p = new Experiment(ExperimentTest.DATA, PROTOCOL).prepare(cell, tokenizer, 256);
        }
        Learner full = learner(cell, p, true), less = learner(cell, p, false);
        for (int i = 0; i < p.train().size(); i++) {
            EncodedExample e = p.train().get(i);
            float expected = full.step(e), actual = less.step(e);
            assertEquals(expected, actual, 1e-4 * Math.max(1, Math.abs(expected)), "training loss of step " + i);
        }
        Evaluator everyPrompt = new Evaluator(full.classifier(), false),
                cached = new Evaluator(less.classifier(), true);
        assertArrayEquals(
                everyPrompt
                        .predictions(p.val(), "validation", Trainer.Listener.NONE)
                        .predicted(),
                cached.predictions(p.val(), "validation", Trainer.Listener.NONE).predicted(),
                "validation predictions");
        assertEquals(0, everyPrompt.prefixTokens());
        if (!less.classifier().model().config().family().isDecoder()) {
            assertEquals(0, cached.prefixTokens(), "an encoder runs every prompt whole");
        } else if (cell.setting() != Setting.CLS_PLAIN) {
            assertTrue(cached.prefixTokens() > 16, "the demonstrations are shared: " + cached.prefixTokens());
        }
    }

    /** A classifier and its optimiser, with the dropout of the config on. */
    private record Learner(Classifier classifier, AdamW optimizer) {
        /** One training step; returns its loss. */
        float step(EncodedExample e) {
            Model m = classifier.model();
            m.zeroGrad();
            classifier.computeLoss(e.ids(), e.label());
            m.backward();
            float loss = m.lossValue();
            optimizer.step();
            return loss;
        }
    }

    /** Both learners start from the same weights (the head seeded alike) and draw the same dropout masks. */
    private static Learner learner(Cell cell, Experiment.Prepared p, boolean everyRow) {
        boolean lm = cell.setting() == Setting.LM_PROMPT;
        Model model = ModelFiles.load(
                cell.model(),
                cell.keep(),
                ModelFiles.Options.builder()
                        .trainable()
                        .maxTokens(p.longest())
                        .headRows(1)
                        .labels(lm ? 0 : cell.task().numLabels(), cell.pooling(), 3)
                        .build());
        model.train(17);
        Classifier c = new Classifier(model, p.labelTokens(), false);
        return new Learner(everyRow ? c.everyRow() : c, AdamW.withDefaults(model, PROTOCOL.lr()));
    }

    /**
     * Evaluation with several examples per pass predicts as one example per pass after the cached prefix and as the
     * full computation (every prompt whole, every row), with class probabilities within fp32 rounding; over
     * prompts of different lengths, a quarter of them cut to the length limit so that they share less of the
     * prefix.
     */
    @ParameterizedTest(name = "stories260K k={0} {1} {2}")
    @CsvSource({"2, trec, lm-prompt", "5, sst2, cls-prompt", "1, sst2, cls-plain", "1, agnews, lm-prompt"})
    void stackedEvaluation(int keep, String task, String setting) {
        Path dir = Shared.resolve("models", "stories260K");
        Cell cell = Cell.of(dir, keep, Task.parse(task), Setting.parse(setting), 0, Pooling.LAST);
        Experiment experiment = new Experiment(
                ExperimentTest.DATA, Protocol.builder().examples(4, 48, 1).build());
        Experiment.Prepared p;
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            Experiment.Prepared whole =
                    experiment.prepare(cell, tokenizer, experiment.maxPromptTokens(ModelConfig.read(dir)));
            int[] lengths =
                    whole.val().stream().mapToInt(e -> e.ids().length).sorted().toArray();
            p = experiment.prepare(cell, tokenizer, lengths[lengths.length * 3 / 4]);
        }
        assertTrue(p.shortened() > 0, "some prompts were cut");
        boolean lm = cell.setting() == Setting.LM_PROMPT;
        Model model = ModelFiles.load(
                dir,
                keep,
                ModelFiles.Options.builder()
                        .maxTokens(p.longest())
                        .labels(lm ? 0 : cell.task().numLabels(), cell.pooling(), 3)
                        .build());
        Classifier classifier = new Classifier(model, p.labelTokens(), false);
        assertTrue(classifier.stacks(), "a decoder's head at the last row stacks");
        Evaluator stacked = new Evaluator(classifier, true);
        Predictions full =
                new Evaluator(classifier.everyRow(), false).predictions(p.val(), "validation", Trainer.Listener.NONE);
        Predictions one =
                new Evaluator(classifier, true, false).predictions(p.val(), "validation", Trainer.Listener.NONE);
        Predictions several = stacked.predictions(p.val(), "validation", Trainer.Listener.NONE);
        // agnews' own rows fill most of a stack in stories260K's small vocabulary: few examples share a pass there
        assertTrue(
                stacked.passes() < p.val().size(),
                stacked.passes() + " passes over " + p.val().size());
        for (Predictions other : new Predictions[] {one, several}) {
            assertArrayEquals(full.predicted(), other.predicted(), "validation predictions");
            for (int i = 0; i < full.size(); i++) {
                assertArrayEquals(full.probabilities()[i], other.probabilities()[i], 1e-5f, "probabilities " + i);
            }
        }
        if (cell.setting() != Setting.CLS_PLAIN) {
            int[] prefix = p.val().get(Evaluator.representative(p.val())).ids();
            int least = p.val().stream()
                    .mapToInt(e -> Evaluator.common(prefix, e.ids()))
                    .min()
                    .orElseThrow();
            assertTrue(least < stacked.prefixTokens(), "a cut prompt shares " + least + " < " + stacked.prefixTokens());
        }
    }
}
