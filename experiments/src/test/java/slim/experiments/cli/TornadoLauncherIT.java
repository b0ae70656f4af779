package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.Shared;

/**
 * The design's own usage, as a user types it: TornadoVM's launcher runs the jar README names,
 * {@code tornado -jar experiments/target/slim.jar --params "train ... --backend tornado"}, the cell
 * runs on the device, and its training losses and accuracies are the CPU's ({@code java -jar}, same
 * jar, {@code --backend cpu}). An integration test (failsafe, after the jar is packaged), run by the
 * tornado profile's {@code verify} phase ({@code ./test verify}, tornado/README.md) where TORNADOVM_HOME names an SDK.
 */
class TornadoLauncherIT {
    private static final Path JAR = Path.of("target", "slim.jar");

    @TempDir
    Path tmp;

    private record Run(int code, String out) {}

    private static Run run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "still running after 10 minutes: " + command);
        return new Run(p.exitValue(), out);
    }

    private String trainArgs(String backend, Path out) {
        String model = Shared.resolve("models", "stories260K").toString();
        return "train --model " + model + " -k 2 --task trec --setting cls-plain --train 8 --val 6 --test 10"
                + " --epochs 2 --no-dropout --seed 42 --backend " + backend + " --out " + out;
    }

    private static JsonNode result(Path out) throws IOException {
        try (Stream<Path> files = Files.walk(out)) {
            List<Path> json = files.filter(f -> f.getFileName().toString().endsWith("_s42.json"))
                    .toList();
            assertEquals(1, json.size(), "one result under " + out + ": " + json);
            return new ObjectMapper().readTree(json.getFirst().toFile());
        }
    }

    private static double[] doubles(JsonNode array) {
        double[] d = new double[array.size()];
        for (int i = 0; i < d.length; i++) d[i] = array.get(i).asDouble();
        return d;
    }

    @Test
    void tornadoLauncherTrainsOnTheDeviceWithTheCpuLosses() throws Exception {
        String home = System.getenv("TORNADOVM_HOME");
        assumeTrue(home != null && Files.isExecutable(Path.of(home, "bin", "tornado")), "no TornadoVM SDK");
        assertTrue(Files.isRegularFile(JAR), "run after package: " + JAR.toAbsolutePath());

        Path deviceOut = tmp.resolve("tornado"), cpuOut = tmp.resolve("cpu");
        // TornadoVM's launcher takes its own dashed options; the program's go through --params as one string.
        Run device = run(List.of(
                Path.of(home, "bin", "tornado").toString(),
                "-jar",
                JAR.toString(),
                "--params",
                trainArgs("tornado", deviceOut)));
        assertEquals(0, device.code(), device.out());
        assertTrue(device.out().contains("backend: tornado ("), device.out());

        List<String> java = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules",
                "jdk.incubator.vector",
                "-jar",
                JAR.toString()));
        java.addAll(List.of(trainArgs("cpu", cpuOut).split(" ")));
        Run cpu = run(java);
        assertEquals(0, cpu.code(), cpu.out());

        // Each result names the backend that made it, so the two cannot be mistaken for each other later.
        assertTrue(result(deviceOut).get("run").get("backend").asText().startsWith("tornado ("), "device result");
        assertTrue(result(cpuOut).get("run").get("backend").asText().startsWith("cpu ("), "CPU result");
        JsonNode d = result(deviceOut).get("curves"), c = result(cpuOut).get("curves");
        assertArrayEquals(doubles(c.get("train_loss")), doubles(d.get("train_loss")), 1e-4, "train losses");
        assertArrayEquals(doubles(c.get("val_accuracy")), doubles(d.get("val_accuracy")), 0, "validation accuracy");
        assertEquals(c.get("test_accuracy").asDouble(), d.get("test_accuracy").asDouble(), 0, "test accuracy");
    }
}
