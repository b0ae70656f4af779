package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static slim.experiments.cli.Cli.tiny;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.Shared;
import slim.nn.io.Checkpoint;
import slim.nn.io.SafeTensorsWriter;
import slim.nn.io.TensorInfo;

/**
 * A result knows the model and data that made it, so train, grid and report refuse to pass a result of another
 * model in a folder of the same name, or of other data, off as the one asked for.
 */
class ResultOriginTest {
    static final Path STORIES = Shared.resolve("models", "stories260K");
    static final Path DATA = Shared.resolve("datasets");
    static final String RESULT = "stories260K_k1_trec_cls-plain_s0.json";

    @TempDir
    Path tmp;

    static Cli.Run run(String... args) {
        return Cli.run(args);
    }

    private static String[] cell(String command, Path model, Path data, Path out, String seed) {
        boolean grid = command.equals("grid");
        return tiny(
                "%s --model %s -k 1 %s trec %s cls-plain --seed %s --data %s --out %s",
                command, model, grid ? "--tasks" : "--task", grid ? "--settings" : "--setting", seed, data, out);
    }

    /** stories260K with every weight scaled by 1.001, as another fine-tune of it, in a folder of the same name. */
    private Path otherStories() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("other").resolve("stories260K"));
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
            Files.writeString(dir.resolve(f), Files.readString(STORIES.resolve(f)));
        }
        SafeTensorsWriter writer = new SafeTensorsWriter();
        try (Checkpoint c = Checkpoint.open(STORIES)) {
            for (String name : c.names()) {
                TensorInfo t = c.info(name);
                float[] w = new float[(int) t.elements()];
                c.read(name, t.shape(), w, 0, false);
                for (int i = 0; i < w.length; i++) w[i] *= 1.001f;
                writer.add(name, t.shape(), w, 0, false);
            }
        }
        writer.write(dir.resolve("model.safetensors"));
        return dir;
    }

    /** The shared TREC data with its last training row left out. */
    private Path otherData() throws Exception {
        Path trec = Files.createDirectories(tmp.resolve("data").resolve("trec"));
        List<String> train = Files.readAllLines(DATA.resolve("trec/train.csv"));
        Files.write(trec.resolve("train.csv"), train.subList(0, train.size() - 1));
        Files.writeString(trec.resolve("test.csv"), Files.readString(DATA.resolve("trec/test.csv")));
        return trec.getParent();
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static void refused(Cli.Run r, String... expected) {
        assertEquals(1, r.code(), r.out() + r.err());
        for (String e : expected) assertTrue(r.err().contains(e), "expected '" + e + "' in: " + r.err());
    }

    @Test
    void aResultOfAnotherModelOrOtherDataIsRefusedNeverCountedAsDone() throws Exception {
        Path out = tmp.resolve("results");
        Cli.Run first = run(cell("train", STORIES, DATA, out, "0"));
        assertEquals(0, first.code(), first.err());
        Path result = out.resolve(RESULT);
        JsonNode origin = new ObjectMapper().readTree(result.toFile()).get("origin");
        assertTrue(origin.get("model_fingerprint").asText().matches("[0-9a-f]{64}"), origin.toString());
        assertEquals(
                sha256(DATA.resolve("trec/train.csv")),
                origin.get("data_files").get("train").get("sha256").asText());
        assertEquals(
                sha256(DATA.resolve("trec/test.csv")),
                origin.get("data_files").get("test").get("sha256").asText());
        String made = Files.readString(result);

        Path other = otherStories();
        refused(run(cell("train", other, DATA, out, "0")), RESULT, "another model");
        refused(run(cell("grid", other, DATA, out, "0")), RESULT, "another model");
        refused(run(cell("grid", STORIES, otherData(), out, "0")), RESULT, "other train data");
        assertEquals(made, Files.readString(result), "the refused runs left the result alone");

        Cli.Run same = run(cell("grid", STORIES, DATA, out, "0"));
        assertEquals(0, same.code(), same.err());
        assertTrue(same.out().contains("1 were done already, 0 ran now"), same.out());

        // the other model's result of another seed, in a sub-folder: a report would average two models as one
        Cli.Run again = run(cell("train", other, DATA, out.resolve("other"), "1"));
        assertEquals(0, again.code(), again.err());
        refused(run("report", out.toString()), "were made differently", "another model", "separate folders");
        assertEquals(0, run("report", out.resolve("other").toString()).code());
    }
}
