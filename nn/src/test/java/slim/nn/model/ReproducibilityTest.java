package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The same seed gives the same bits whatever the thread count and however the JIT runs the kernels: a short
 * training of GPT-2's tiny golden model ({@link SeededTraining}: softmax, GELU's tanh, both matmul backward paths,
 * dropout, AdamW) on one thread with C1 alone (no Vector API intrinsics: every vector operation in
 * Java) and on three threads with C2 compiling early gives bit-identical losses and final weights.
 */
class ReproducibilityTest {

    private static String train(String... jvmOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules",
                "jdk.incubator.vector",
                "-cp",
                System.getProperty("java.class.path")));
        String bits = System.getProperty("slim.vectorBits");
        if (bits != null) command.add("-Dslim.vectorBits=" + bits);
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of(SeededTraining.class.getName(), "6", "golden/gpt2-tiny"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out.lines().filter(l -> !l.startsWith("WARNING")).reduce("", (a, b) -> a + b + "\n");
    }

    @Test
    void aSeededRunGivesTheSameBitsOnAnyThreadCountCompiledOrNot() throws Exception {
        String c1 = train("-XX:TieredStopAtLevel=1", "-Dslim.threads=1");
        String c2 = train("-XX:-TieredCompilation", "-XX:CompileThreshold=100", "-Dslim.threads=3");
        assertEquals(2, c1.lines().count(), c1);
        assertTrue(c1.contains("gpt2-tiny losses") && c1.contains("gpt2-tiny weights"), c1);
        assertEquals(c1, c2);
    }
}
