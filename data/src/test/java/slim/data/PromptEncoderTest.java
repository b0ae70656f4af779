package slim.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import slim.nn.SlimException;

class PromptEncoderTest {
    static Tokenizer gpt2, stories;
    static final Map<Task, Split> SPLITS = new EnumMap<>(Task.class);

    @BeforeAll
    static void load() {
        gpt2 = Tokenizer.load(Shared.gpt2());
        stories = Tokenizer.load(Shared.stories());
        for (Task t : Task.values()) SPLITS.put(t, Split.make(Datasets.load(Shared.datasets(), t), 42, 20, 0, 20));
    }

    @AfterAll
    static void close() {
        gpt2.close();
        stories.close();
    }

    static PromptEncoder encoder(Task task, Setting setting, Tokenizer t, int max) {
        return new PromptEncoder(task, setting, t, SPLITS.get(task).demonstrations(), max);
    }

    @Test
    void gpt2LabelWordsAreSingleTokens() {
        LabelTokens l = encoder(Task.SST2, Setting.LM_PROMPT, gpt2, 1024).labelTokens();
        assertArrayEquals(new int[0], l.appended());
        assertArrayEquals(new int[] {36183, 33733}, l.targets()); // " Negative", " Positive"
    }

    @Test
    void sentencepieceAppendsTheSharedSpaceToken() {
        LabelTokens l = encoder(Task.SST2, Setting.LM_PROMPT, stories, 512).labelTokens();
        assertArrayEquals(new int[] {410}, l.appended()); // "▁"
        assertArrayEquals(new int[] {458, 460}, l.targets()); // "N", "P"
    }

    @Test
    void appendedAndTargetAreWhatTheLabelWordEncodesToAfterEveryPrompt() {
        for (Tokenizer t : List.of(gpt2, stories)) {
            for (Task task : Task.values()) {
                PromptEncoder enc = encoder(task, Setting.LM_PROMPT, t, 100_000);
                LabelTokens l = enc.labelTokens();
                for (Example e : SPLITS.get(task).test()) {
                    String prompt = enc.promptText(e);
                    int[] ids = enc.encode(e).ids();
                    int[] expected = concat(t.bos(), t.encode(prompt), l.appended());
                    assertArrayEquals(expected, ids, task + " row " + e.row());
                    for (int c = 0; c < task.numLabels(); c++) {
                        String word = task.labelWords().get(c);
                        int[] full = t.encode(prompt + word);
                        int[] withTarget = concat(t.encode(prompt), l.appended(), new int[] {l.targets()[c]});
                        if (!Arrays.equals(withTarget, Arrays.copyOf(full, withTarget.length))) {
                            // only the split-space rule may differ from the label's own encoding, and
                            // only by predicting the first character where the word merged with its space
                            assertEquals(t, stories, task + " " + word);
                            assertArrayEquals(concat(t.encode(prompt), l.appended()), t.encode(prompt + " "));
                            assertEquals(word.substring(1, 2), t.decode(new int[] {l.targets()[c]}), task + " " + word);
                        }
                    }
                }
                assertEquals(0, enc.shortened());
            }
        }
    }

    @Test
    void mixedSentencepieceLabelsSplitTheSpaceOff() {
        // " Location" merges to "▁L" but " Abbreviation" is "▁" + "A": the first-token rule would give
        // five of the six labels the target "▁"
        LabelTokens l = encoder(Task.TREC, Setting.LM_PROMPT, stories, 512).labelTokens();
        assertArrayEquals(new int[] {410}, l.appended());
        StringBuilder firsts = new StringBuilder();
        for (int target : l.targets()) firsts.append(stories.decode(new int[] {target}));
        assertEquals("AEDPLN", firsts.toString());
    }

    @Test
    void promptsFollowTheStudyFormats() {
        Split s = SPLITS.get(Task.SST2);
        Example e = s.test().getFirst();
        String lm = encoder(Task.SST2, Setting.LM_PROMPT, gpt2, 1024).promptText(e);
        String[] lines = lm.split("\n");
        assertEquals(6, lines.length);
        for (int i = 0; i < 2; i++) {
            Example d = s.demonstrations().get(i);
            assertEquals("Review: " + d.text(), lines[2 * i]);
            assertEquals("Sentiment: " + (d.label() == 0 ? "Negative" : "Positive"), lines[2 * i + 1]);
        }
        assertTrue(lm.endsWith("Review: " + e.text() + "\nSentiment:"));
        assertEquals(lm, encoder(Task.SST2, Setting.CLS_PROMPT, gpt2, 1024).promptText(e));
        PromptEncoder plain = encoder(Task.SST2, Setting.CLS_PLAIN, gpt2, 1024);
        assertEquals("Review: " + e.text() + "\nSentiment:", plain.promptText(e));
        assertNull(plain.labelTokens());
        assertEquals(
                "Question: Who ?\nAnswer Type: Person",
                Task.TREC.fill("Who ?", Task.TREC.labelWords().get(3)));
        assertEquals(
                "Article: x\nAnswer: Technology",
                Task.AGNEWS.fill("x", Task.AGNEWS.labelWords().get(3)));
    }

    @Test
    void longPromptsLoseDemonstrationTextFirstNeverLabelLines() {
        for (Tokenizer t : List.of(gpt2, stories)) {
            int max = t == gpt2 ? 90 : 260;
            PromptEncoder enc = encoder(Task.AGNEWS, Setting.LM_PROMPT, t, max);
            for (Example e : SPLITS.get(Task.AGNEWS).test()) {
                int[] ids = enc.encode(e).ids();
                assertTrue(ids.length <= max, ids.length + " > " + max);
                assertArrayEquals(ids, enc.encode(e).ids(), "shortening is deterministic");
                String text = t.decode(Arrays.copyOfRange(ids, t.bos().length, ids.length));
                for (Example d : SPLITS.get(Task.AGNEWS).demonstrations()) {
                    assertTrue(
                            text.contains("\nAnswer:" + Task.AGNEWS.labelWords().get(d.label()) + "\n"), text);
                }
                assertTrue(text.strip().endsWith("\nAnswer:"), text);
            }
            assertEquals(40, enc.shortened(), "every prompt was shortened, twice each");
        }
    }

    @Test
    void inputTextIsCutOnlyWhenDemonstrationsAreEmpty() {
        PromptEncoder enc = encoder(Task.AGNEWS, Setting.LM_PROMPT, gpt2, 40);
        for (Example e : SPLITS.get(Task.AGNEWS).test()) {
            int[] ids = enc.encode(e).ids();
            assertTrue(ids.length <= 40);
            String text = gpt2.decode(ids);
            assertTrue(text.startsWith("Article: \nAnswer:"), text);
            String query =
                    text.substring(text.lastIndexOf("Article: ") + "Article: ".length(), text.lastIndexOf("\nAnswer:"));
            assertTrue(e.text().startsWith(query) && !query.isEmpty(), query);
        }
        PromptEncoder tooSmall = encoder(Task.AGNEWS, Setting.LM_PROMPT, gpt2, 20);
        Example e = SPLITS.get(Task.AGNEWS).test().getFirst();
        assertTrue(assertThrows(SlimException.class, () -> tooSmall.encode(e))
                .getMessage()
                .contains("with every text cut away"));
    }

    @Test
    void capShortensTheLongestFirst() {
        assertEquals(4, PromptEncoder.cap(new int[] {10, 3, 7}, 12));
        assertEquals(0, PromptEncoder.cap(new int[] {10, 3, 7}, 2));
        assertEquals(9, PromptEncoder.cap(new int[] {10, 3, 7}, 19));
    }

    @Test
    void labelsSharingATargetFailClearly() {
        String m = assertThrows(
                        SlimException.class,
                        () -> LabelTokens.of("test", List.of(" Sad", " Sadness", " Happy"), gpt2, "Mood:"))
                .getMessage();
        assertTrue(m.contains("'Sad' and 'Sadness' share their target token"), m);
        m = assertThrows(SlimException.class, () -> LabelTokens.of("test", List.of(" Sad", " Sad"), gpt2, "Mood:"))
                .getMessage();
        assertTrue(m.contains("is the start of another label word"), m);
    }

    @Test
    void bertGetsClsAndSepAndNoLmPrompt() {
        try (Tokenizer bert = Tokenizer.load(Shared.minilm())) {
            int[] ids = encoder(Task.TREC, Setting.CLS_PROMPT, bert, 512)
                    .encode(SPLITS.get(Task.TREC).test().getFirst())
                    .ids();
            assertEquals(101, ids[0]);
            assertEquals(102, ids[ids.length - 1]);
            assertTrue(assertThrows(SlimException.class, () -> encoder(Task.TREC, Setting.LM_PROMPT, bert, 512))
                    .getMessage()
                    .contains("BERT encoder"));
        }
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
