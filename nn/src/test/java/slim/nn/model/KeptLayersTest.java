package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import slim.nn.Shared;
import slim.nn.SlimException;

/** The layer-spec parser: what it accepts, how it writes a set back, and what it refuses. */
class KeptLayersTest {

    @Test
    void rangesAndSingleIndicesParseToAscendingIndices() {
        assertEquals(List.of(0, 1, 2, 3, 7, 11), KeptLayers.parse("0-3,7,11").indices());
        assertEquals(List.of(5), KeptLayers.parse(" 5 ").indices());
        assertEquals(List.of(2, 3, 4), KeptLayers.parse("2-4").indices());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {"0-3,7,11; 0-3,7,11", "0,1; 0,1", "0,1,2; 0-2", "4,6,7,8,10,11; 4,6-8,10,11"})
    void formatWritesTheShortestSpecThatParsesBack(String spec, String formatted) {
        KeptLayers k = KeptLayers.parse(spec);
        assertEquals(formatted, k.format());
        assertEquals(k, KeptLayers.parse(k.format()));
    }

    @Test
    void firstKIsTheStudysChoice() {
        assertEquals(KeptLayers.parse("0-2"), KeptLayers.first(3));
        assertTrue(KeptLayers.first(3).isFirst());
        assertFalse(KeptLayers.parse("0,2").isFirst());
        assertFalse(KeptLayers.parse("1").isFirst());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {
                "'';empty layer list", "3,1;ascending", "1,1;without repeats", "0-2,2;without repeats",
                "4-2;runs backwards", "-1;negative", "a;'a' in layer list", "1,,2;'' in layer list",
                "0-999999;longer than any model"
            })
    void badSpecsAreRefusedSayingWhy(String spec, String why) {
        SlimException e = assertThrows(SlimException.class, () -> KeptLayers.parse(spec));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void layersTheModelDoesNotHaveAreRefusedNamingItsConfig() {
        ModelConfig c = ModelConfig.read(Shared.resolve("golden", "gpt2-tiny"));
        KeptLayers.parse("0,2").checkWithin(c);
        SlimException e =
                assertThrows(SlimException.class, () -> KeptLayers.parse("0,3").checkWithin(c));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        assertTrue(e.getMessage().contains("cannot keep layer 3"), e.getMessage());
        assertThrows(
                SlimException.class,
                () -> ModelFiles.load(c.file().getParent(), KeptLayers.parse("1-3"), ModelFiles.Options.inference()));
    }
}
