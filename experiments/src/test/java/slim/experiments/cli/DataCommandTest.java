package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
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
        return run("data", "show", "--task", "trec", "--seed", "42", "--setting", "lm-prompt", "--model", model.toString(),
                "--n", "2", "--data", Shared.resolve("datasets").toString());
    }

    @Test
    void showPrintsRealTrecPromptsForGpt2() {
        Run r = show(Shared.resolve("tokenizers", "gpt2"));
        assertEquals(0, r.code(), r.err());
        assertEquals(2, r.out().split("\n--- test row ", -1).length - 1, r.out());
        assertTrue(r.out().contains("appended tokens [] []"), r.out());
        assertTrue(r.out().contains("label Person        target [7755] [\"ĠPerson\"]"), r.out());
        assertTrue(r.out().contains("label Abbreviation  target [2275] [\"ĠAb\"]"), "the first of three tokens: " + r.out());
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
        Map<String, String> files = Map.of(
                "/api/models/org/tiny", "{\"siblings\":[{\"rfilename\":\"config.json\"},{\"rfilename\":\"tokenizer.json\"},{\"rfilename\":\"model.safetensors\"},{\"rfilename\":\"README.md\"}]}",
                "/org/tiny/resolve/main/config.json", "{\"model_type\":\"gpt2\"}",
                "/org/tiny/resolve/main/tokenizer.json", "{}",
                "/org/tiny/resolve/main/model.safetensors", "weights");
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String body = files.get(exchange.getRequestURI().getRawPath());
            byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : bytes.length);
            try (var out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        try {
            Path dir = tmp.resolve("tiny");
            Run r = run("model", "fetch", "org/tiny", "--to", dir.toString(), "--hub", "http://127.0.0.1:" + server.getAddress().getPort());
            assertEquals(0, r.code(), r.err());
            assertEquals("weights", Files.readString(dir.resolve("model.safetensors")));
            assertTrue(r.out().contains("org/tiny: 3 files"), r.out());
            assertTrue(r.err().contains("model.safetensors: 0.0 MB / 0.0 MB (100%)"), r.err());
        } finally {
            server.stop(0);
        }
    }
}
