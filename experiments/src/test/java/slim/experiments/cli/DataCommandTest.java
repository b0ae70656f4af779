package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import slim.data.fetch.FakeHub;
import slim.nn.Shared;

class DataCommandTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        ByteArrayOutputStream out = new ByteArrayOutputStream(), stderr = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        try {
            int code = cli.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err + stderr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static Run show(Path model) {
        return run(
                "data",
                "show",
                "--task",
                "trec",
                "--seed",
                "42",
                "--setting",
                "lm-prompt",
                "--model",
                model.toString(),
                "--n",
                "2",
                "--data",
                Shared.resolve("datasets").toString());
    }

    @Test
    void showPrintsRealTrecPromptsForGpt2() {
        Run r = show(Shared.resolve("tokenizers", "gpt2"));
        assertEquals(0, r.code(), r.err());
        assertEquals(2, r.out().split("\n--- test row ", -1).length - 1, r.out());
        assertTrue(r.out().contains("appended tokens [] []"), r.out());
        assertTrue(r.out().contains("label Person        target [7755] [\"ĠPerson\"]"), r.out());
        assertTrue(
                r.out().contains("label Abbreviation  target [2275] [\"ĠAb\"]"),
                "the first of three tokens: " + r.out());
        assertTrue(r.out().contains("Question: ") && r.out().contains("\nAnswer Type: Number\n"), r.out());
        assertTrue(r.out().contains("shortened 0 of 2 prompts"), r.out());
    }

    @Test
    void showPrintsRealTrecPromptsForStories260K() {
        Run r = show(Shared.resolve("models", "stories260K"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("appended tokens [410] [\"▁\"]"), r.out());
        assertTrue(r.out().contains("label Location      target [438] [\"L\"]"), r.out());
        assertTrue(r.out().contains("ids [1, 410, "), "prompts start with <s>: " + r.out());
        assertEquals(2, r.out().split("\n--- test row ", -1).length - 1, r.out());
    }

    @Test
    void unknownTaskIsAClearError() {
        Run r = run("data", "show", "--task", "imdb", "--model", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("agnews, emocontext, sst2, trec"), r.err());
    }

    @Test
    void modelFetchDownloadsFromTheGivenHub() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", "{\"model_type\":\"gpt2\"}".getBytes(StandardCharsets.UTF_8));
        files.put("tokenizer.json", "{}".getBytes(StandardCharsets.UTF_8));
        files.put("model.safetensors", "weights".getBytes(StandardCharsets.UTF_8));
        files.put("README.md", "# tiny".getBytes(StandardCharsets.UTF_8));
        try (FakeHub hub = FakeHub.start()) {
            hub.publish("org/tiny", "main", "c0ffee", files);
            Path dir = tmp.resolve("tiny");
            Run r = run("model", "fetch", "org/tiny", "--out", dir.toString(), "--hub", hub.url());
            assertEquals(0, r.code(), r.err());
            assertEquals("weights", Files.readString(dir.resolve("model.safetensors")));
            assertTrue(r.out().contains("org/tiny at main (commit c0ffee): 3 files"), r.out());
            assertTrue(r.err().contains("model.safetensors: 0.0 MB / 0.0 MB (100%)"), r.err());
        }
    }
}
