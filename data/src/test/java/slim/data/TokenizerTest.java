package slim.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.SlimException;
import slim.nn.model.Family;

class TokenizerTest {
    @TempDir
    Path tmp;

    @Test
    void gpt2HasNoBos() {
        try (Tokenizer t = Tokenizer.load(Shared.gpt2())) {
            assertEquals(Family.GPT2, t.family());
            assertArrayEquals(new int[] {15496, 995}, t.encode("Hello world"));
            assertArrayEquals(new int[] {15496, 995}, t.encodeInput("Hello world"));
            assertEquals(1024, t.model().maxPositions());
            assertEquals("Hello world", t.decode(t.encode("Hello world")));
        }
    }

    @Test
    void llamaStartsWithBos() {
        try (Tokenizer t = Tokenizer.load(Shared.stories())) {
            assertEquals(Family.LLAMA, t.family());
            assertEquals(512, t.model().maxPositions());
            int[] ids = t.encode("Once upon a time");
            int[] input = t.encodeInput("Once upon a time");
            assertEquals(1, input[0]);
            assertArrayEquals(ids, Arrays.copyOfRange(input, 1, input.length));
        }
    }

    @Test
    void optStartsWithEndOfSentenceToken() throws IOException {
        Files.copy(Shared.gpt2().resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
        Files.writeString(
                tmp.resolve("config.json"),
                "{\"model_type\":\"opt\",\"max_position_embeddings\":2048,\"bos_token_id\":2}");
        try (Tokenizer t = Tokenizer.load(tmp)) {
            assertEquals(Family.OPT, t.family());
            assertEquals(2048, t.model().maxPositions());
            assertArrayEquals(new int[] {2, 15496, 995}, t.encodeInput("Hello world"));
        }
    }

    @Test
    void bertUsesItsPostProcessorAndNeverTruncates() {
        try (Tokenizer t = Tokenizer.load(Shared.minilm())) {
            assertEquals(Family.BERT, t.family());
            String longText = "word ".repeat(300);
            assertEquals(300, t.encode(longText).length, "MiniLM's tokenizer.json truncates at 128 unless told not to");
            int[] input = t.encodeInput(longText);
            assertEquals(302, input.length);
            assertEquals(101, input[0]);
            assertEquals(102, input[301]);
        }
    }

    @Test
    void keepTokensCutsWholeTokens() {
        try (Tokenizer gpt2 = Tokenizer.load(Shared.gpt2());
                Tokenizer stories = Tokenizer.load(Shared.stories())) {
            assertEquals("it 's a", gpt2.keepTokens("it 's a charming journey", 4)); // it, ', s, a
            assertEquals("", gpt2.keepTokens("it 's a charming journey", 0));
            String text = "Once upon a time there was";
            for (int n = 1; n < stories.count(text); n++) {
                String kept = stories.keepTokens(text, n);
                assertTrue(text.startsWith(kept) && kept.length() < text.length(), kept);
                assertTrue(stories.count(kept) <= n + 1, kept + " for " + n);
            }
        }
    }

    @Test
    void badFoldersFailClearly() throws IOException {
        assertTrue(assertThrows(SlimException.class, () -> Tokenizer.load(tmp))
                .getMessage()
                .contains("neither config.json nor tokenizer_config.json"));
        Files.writeString(tmp.resolve("config.json"), "{\"model_type\":\"t5\"}");
        assertTrue(assertThrows(SlimException.class, () -> Tokenizer.load(tmp))
                .getMessage()
                .contains("model_type 't5'"));
        Files.writeString(tmp.resolve("config.json"), "{\"model_type\":\"gpt2\"}");
        String noTokenizer = tmp + ": no tokenizer: neither tokenizer.json nor vocab.json + merges.txt";
        assertTrue(assertThrows(SlimException.class, () -> Tokenizer.load(tmp))
                .getMessage()
                .contains(noTokenizer));
        Files.copy(Shared.gpt2().resolve("vocab.json"), tmp.resolve("vocab.json"));
        assertTrue(assertThrows(SlimException.class, () -> Tokenizer.load(tmp))
                .getMessage()
                .contains(noTokenizer));
    }

    /** vocab.json + merges.txt with OPT's conventions (BOS </s>, no tokenizer.json) give GPT2Tokenizer's ids. */
    @Test
    void vocabAndMergesGiveTransformersIds() throws IOException {
        Path dir = Shared.dir().resolve("hub-layouts/opt-style-tokenizer");
        JsonNode expected =
                new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
        try (Tokenizer t = Tokenizer.load(dir)) {
            assertEquals(1, t.bos().length);
            for (JsonNode c : expected.get("cases")) {
                String text = c.get("text").asText();
                int[] ids = new int[c.get("ids").size()];
                for (int i = 0; i < ids.length; i++)
                    ids[i] = c.get("ids").get(i).intValue();
                assertArrayEquals(ids, t.encodeInput(text), text);
                assertEquals(text, t.decode(t.encode(text)));
            }
            assertEquals(50257, t.pieceId("</s>"), "the special token the vocabulary holds");
        }
    }

    /** GPT-2's vocab.json + merges.txt alone tokenize every dataset text exactly as its own tokenizer.json does. */
    @Test
    void vocabAndMergesEqualTheHubsTokenizerJson() throws IOException {
        for (String f : new String[] {"vocab.json", "merges.txt", "tokenizer_config.json"}) {
            Files.copy(Shared.gpt2().resolve(f), tmp.resolve(f));
        }
        int texts = 0;
        try (Tokenizer built = Tokenizer.load(tmp);
                Tokenizer hub = Tokenizer.load(Shared.gpt2())) {
            assertEquals(0, built.bos().length, "GPT-2 prepends nothing");
            for (Task task : Task.values()) {
                for (Example e : Datasets.load(Shared.datasets(), task).test().subList(0, 250)) {
                    assertArrayEquals(hub.encodeInput(e.text()), built.encodeInput(e.text()), e.text());
                    assertEquals(hub.keepTokens(e.text(), 5), built.keepTokens(e.text(), 5), e.text());
                    texts++;
                }
            }
            assertEquals(hub.piece(50256), built.piece(50256));
            assertArrayEquals(hub.encode("<|endoftext|> Hi"), built.encode("<|endoftext|> Hi"));
        }
        assertEquals(1000, texts);
    }
}
