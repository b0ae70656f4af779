package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.data.Setting;
import slim.data.Task;
import slim.nn.model.KeptLayers;
import slim.nn.model.LayerScores;
import slim.nn.model.LayerSelection;

/**
 * Cells whose layers are chosen by BI or angular distance: the scores come from the cell's own
 * training prompts, the result records the selection, the layers and the scores, and cells of
 * different selections do not share a result file.
 */
class LayerSelectionCellTest {
    private static final Protocol TINY = Protocol.builder()
            .examples(6, 4, 4)
            .epochs(1)
            .patience(1)
            .maxPromptTokens(128)
            .build();

    @TempDir
    Path tmp;

    @Test
    void aSelectedCellKeepsWhatTheScoresOfItsTrainingPromptsSayAndRecordsThem() throws Exception {
        Experiment experiment = new Experiment(ExperimentTest.DATA, TINY);
        for (LayerSelection selection : List.of(LayerSelection.BI, LayerSelection.ANGULAR)) {
            Cell cell = Cell.of(
                    ExperimentTest.STORIES, LayerChoice.selected(2, selection), Task.SST2, Setting.CLS_PLAIN, 0, null);
            Result r = experiment.run(cell, Trainer.Listener.NONE);
            assertTrue(r.ok(), r.error());
            LayerScores scores = experiment.layerScores(cell);
            assertEquals(6, scores.prompts(), "scored on the six training prompts");
            KeptLayers kept = scores.keep(selection, 2);
            assertEquals(kept.indices(), r.cell().layers());
            assertEquals(selection.label(), r.cell().selection());
            assertEquals(scores.biAll()[0], r.layerScores().biAll()[0], 0);

            Path file = ResultFiles.file(tmp, cell);
            ResultFiles.write(file, r);
            JsonNode j = ResultFiles.JSON.readTree(file.toFile());
            assertEquals(selection.label(), j.get("cell").get("selection").asText());
            assertEquals(2, j.get("cell").get("layers").size());
            assertEquals(5, j.get("layer_scores").get("bi_all").size());
            assertEquals(5, j.get("layer_scores").get("angular").size());
            assertEquals(kept.indices(), ResultFiles.read(file).cell().layers(), "reads back");
        }
    }

    @Test
    void theStudysCellRecordsItsLayersAndNoScores() {
        Cell cell = Cell.of(ExperimentTest.STORIES, 2, Task.SST2, Setting.CLS_PLAIN, 0, null);
        Result r = new Experiment(ExperimentTest.DATA, TINY).run(cell, Trainer.Listener.NONE);
        assertEquals(List.of(0, 1), r.cell().layers());
        assertEquals("first", r.cell().selection());
        assertNull(r.layerScores());
    }

    @Test
    void cellIdsTellSelectionsAndGivenSetsApart() {
        Path m = ExperimentTest.STORIES;
        String first = Cell.of(m, 2, Task.SST2, Setting.CLS_PLAIN, 0, null).id();
        String bi = Cell.of(m, LayerChoice.selected(2, LayerSelection.BI), Task.SST2, Setting.CLS_PLAIN, 0, null)
                .id();
        String given = Cell.of(m, LayerChoice.given(KeptLayers.parse("0,3")), Task.SST2, Setting.CLS_PLAIN, 0, null)
                .id();
        String firstGiven = Cell.of(
                        m, LayerChoice.given(KeptLayers.parse("0-1")), Task.SST2, Setting.CLS_PLAIN, 0, null)
                .id();
        assertEquals("stories260K_k2_sst2_cls-plain_s0", first);
        assertEquals("stories260K_k2_bi_sst2_cls-plain_s0", bi);
        assertEquals("stories260K_layers0_3_sst2_cls-plain_s0", given);
        assertEquals(first, firstGiven, "layers 0-1 are the study's first two");
        assertNotEquals(first, bi);
        assertNotNull(LayerChoice.given(KeptLayers.parse("0,3")).given());
    }
}
