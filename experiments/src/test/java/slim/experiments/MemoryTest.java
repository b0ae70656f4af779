package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import slim.nn.Shared;
import slim.nn.SlimException;
import slim.nn.model.KeptLayers;
import slim.nn.model.MemoryCheck;
import slim.nn.model.ModelConfig;

/** The heap a cell needs, against a hand count, and the refusal with what would fit. */
class MemoryTest {
    private static final Path GPT2 = Shared.resolve("golden", "gpt2-tiny");

    @Test
    void weightsGradientsAndBothMomentsAreFourCopiesOfTheHandCountedParameters() {
        ModelConfig c = ModelConfig.read(GPT2);
        long C = c.hidden(), V = c.vocab(), P = c.maxPositions(), I = c.intermediate(), labels = 4;
        // per block: ln_1, c_attn, c_proj, ln_2, c_fc, c_proj of the MLP, each with its bias
        long block = 2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (I * C + I) + (C * I + C);
        long params = V * C + P * C + 2 * block + 2 * C + labels * C; // 2 blocks, ln_f, the score head
        MemoryCheck m = Memory.training(c, KeptLayers.first(2), (int) labels, false, 16);
        assertEquals(4 * 4 * params, m.parameterBytes(), "weights, gradients, AdamW's m and v, as f32");
        assertTrue(m.activationBytes() > 0);
    }

    @Test
    void aCellThatCannotFitIsRefusedWithTheNumbersAndTheMostLayersThatFit() {
        ModelConfig c = ModelConfig.read(GPT2);
        int layers = c.layers(), tokens = 32;
        long one = Memory.training(c, KeptLayers.first(1), 0, false, tokens).totalBytes();
        long all =
                Memory.training(c, KeptLayers.first(layers), 0, false, tokens).totalBytes();
        long available = (one + all) / 2;
        int fits = 0;
        for (int k = 1; k <= layers; k++) {
            if (Memory.training(c, KeptLayers.first(k), 0, false, tokens).totalBytes() <= available) fits = k;
        }
        assertTrue(fits >= 1 && fits < layers, "a heap between one layer's and all layers' needs");
        SlimException e = assertThrows(
                SlimException.class,
                () -> Memory.requireFits(GPT2, c, KeptLayers.first(layers), 0, false, tokens, available));
        assertTrue(
                e.getMessage().contains("training " + layers + " layers needs about")
                        && e.getMessage().contains("activations at " + tokens + " tokens")
                        && e.getMessage().contains("up to " + fits + " layers fit")
                        && e.getMessage().contains("SLIM_HEAP"),
                e.getMessage());
        int k = fits;
        assertDoesNotThrow(() -> Memory.requireFits(GPT2, c, KeptLayers.first(k), 0, false, tokens, available));
        SlimException none = assertThrows(
                SlimException.class,
                () -> Memory.requireFits(GPT2, c, KeptLayers.first(layers), 0, false, tokens, one - 1));
        assertTrue(none.getMessage().contains("not even one layer fits"), none.getMessage());
    }
}
