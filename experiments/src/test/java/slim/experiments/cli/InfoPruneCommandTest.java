package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.Shared;

class InfoPruneCommandTest {

    static Cli.Run run(String... args) {
        return Cli.run(args);
    }

    @Test
    void infoCountsParametersInFullAndKept() throws Exception {
        Path dir = Shared.resolve("models", "stories260K");
        Cli.Run r = run("info", dir.toString(), "--keep", "2", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode info = new ObjectMapper().readTree(r.out());
        assertEquals("llama", info.get("family").asText());
        assertEquals(5, info.get("layers").asInt());
        assertEquals(260_032, info.get("parameters").asLong(), "stories260K has 260K parameters (tied head)");
        long kept = info.get("parameters_kept").asLong();
        assertTrue(kept < 260_032 && kept > 0);
        // each layer of stories260K: 2 norms of 64, q 64x64, k and v 32x64, o 64x64, gate/up/down 3x172x64
        long perLayer = 2 * 64 + 64 * 64 + 2 * 32 * 64 + 64 * 64 + 3 * 172 * 64;
        assertEquals(260_032 - 3 * perLayer, kept);
    }

    @Test
    void pruneWritesALoadableSmallerCheckpoint(@TempDir Path tmp) throws Exception {
        Path dir = Shared.resolve("golden", "opt-tiny");
        Path out = tmp.resolve("opt-k1");
        Cli.Run r = run("prune", dir.toString(), "--keep", "1", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(out.resolve("model.safetensors")) < Files.size(dir.resolve("model.safetensors")));
        Cli.Run info = run("info", out.toString(), "--json");
        assertEquals(1, new ObjectMapper().readTree(info.out()).get("layers").asInt());
    }

    @Test
    void aKTheModelLacksIsOneClearLine(@TempDir Path tmp) {
        Cli.Run r = run(
                "prune",
                Shared.resolve("golden", "opt-tiny").toString(),
                "--keep",
                "7",
                "--out",
                tmp.resolve("x").toString());
        assertEquals(1, r.code(), "a failure of the run, not of its usage");
        assertTrue(r.err().startsWith("slim: ") && r.err().contains("cannot keep 7 layers"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(Files.exists(tmp.resolve("x")));
    }
}
