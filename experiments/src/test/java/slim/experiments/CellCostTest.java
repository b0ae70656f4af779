package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import slim.data.Setting;
import slim.data.Task;
import slim.nn.Shared;
import slim.nn.model.Pooling;

/** A cell's estimated cost grows with k and with its prompts' real length. */
class CellCostTest {
    static final Path STORIES = Shared.resolve("models", "stories260K");
    static final Protocol TINY = Protocol.builder().examples(8, 8, 8).build();

    static Cell cell(int k, Task task, Setting setting) {
        return new Cell(STORIES, k, task, setting, 0, Pooling.LAST);
    }

    @Test
    void costGrowsWithKeptLayersAndPromptLength() {
        Experiment experiment = new Experiment(Shared.resolve("datasets"), TINY);
        CellCost cost = new CellCost(experiment);
        double plain1 = cost.applyAsDouble(cell(1, Task.SST2, Setting.CLS_PLAIN));
        double plain5 = cost.applyAsDouble(cell(5, Task.SST2, Setting.CLS_PLAIN));
        assertEquals((5 + CellCost.HEAD_LAYERS) / (1 + CellCost.HEAD_LAYERS), plain5 / plain1, 1e-9);

        double prompt1 = cost.applyAsDouble(cell(1, Task.SST2, Setting.CLS_PROMPT));
        assertTrue(prompt1 > 1.5 * plain1, "two demonstrations lengthen SST-2's prompt: " + prompt1 + " vs " + plain1);
        assertEquals(
                prompt1,
                cost.applyAsDouble(cell(1, Task.SST2, Setting.LM_PROMPT)),
                prompt1 * 0.1,
                "lm-prompt and cls-prompt share the prompt");
        double agnews = cost.applyAsDouble(cell(1, Task.AGNEWS, Setting.CLS_PROMPT));
        assertTrue(agnews > prompt1, "four news demonstrations are longer than two reviews");

        double again = new CellCost(experiment.with(TINY)).applyAsDouble(cell(1, Task.AGNEWS, Setting.CLS_PROMPT));
        assertEquals(agnews, again, 0, "every task of an array estimates the same");
    }
}
