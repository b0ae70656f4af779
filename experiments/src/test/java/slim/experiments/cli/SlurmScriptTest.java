package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.CommandSpec;
import slim.nn.SlimException;

/** The job-array script: the grid's own arguments with absolute paths, read back by bash exactly as written. */
class SlurmScriptTest {
    @TempDir
    Path tmp;

    static CommandSpec parsedGrid(String... args) {
        return Main.commandLine().parseArgs(args).subcommand().commandSpec();
    }

    @Test
    void tasksGetTheGridsArgumentsWithAbsolutePathsAndNoShard() {
        CommandSpec grid = parsedGrid(
                "grid",
                "--models",
                "models/a,models/b",
                "-k",
                "1,2",
                "--seeds",
                "0",
                "--epochs",
                "1",
                "--retry-failed",
                "--slurm",
                "grid.sbatch",
                "--shards",
                "4",
                "--slurm-option",
                "--time=1:00:00");
        List<List<String>> args = SlurmOptions.arguments(grid);
        Path cwd = Path.of("").toAbsolutePath();
        assertTrue(args.contains(List.of("--models", cwd.resolve("models/a").toString())), args.toString());
        assertTrue(args.contains(List.of("--models", cwd.resolve("models/b").toString())), args.toString());
        assertTrue(args.contains(List.of("--out", cwd.resolve("results").toString())), "the default --out, absolute");
        assertTrue(args.contains(List.of("--keep", "1,2")), args.toString());
        assertTrue(args.contains(List.of("--epochs", "1")), args.toString());
        assertTrue(args.contains(List.of("--retry-failed")), args.toString());
        for (List<String> a : args) {
            boolean slurm = a.getFirst().startsWith("--slurm") || a.getFirst().startsWith("--shard");
            assertFalse(slurm, "not passed on: " + a);
        }
        assertFalse(args.stream().anyMatch(a -> a.getFirst().equals("--backend")), "defaults stay defaults");
    }

    /** A stand-in for java that prints each argument on its own line. */
    private Path echoJava() throws Exception {
        Path java = tmp.resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return java;
    }

    @Test
    void theScriptRunsItsShardWithExactlyTheseArguments() throws Exception {
        List<String> flags = List.of("--add-modules=jdk.incubator.vector", "-Dslim.home=/a dir/with 'quotes'");
        Path jar = tmp.resolve("slim-0123456789ab.jar");
        var launch = new SlurmScript.Launch(echoJava(), flags, List.of(jar), Map.of("DJL_OFFLINE", "true"));
        List<List<String>> grid = List.of(List.of("--models", "/models/gpt2 xl"), List.of("--keep", "1,2"));
        Path out = tmp.resolve("runs");
        SlurmScript script = new SlurmScript(launch, grid, 4, out, List.of("--partition=gpu", "--gres=gpu:1"));
        String text = script.arrayScript(tmp.resolve("grid.sbatch"), tmp.resolve("grid-report.sbatch"));
        assertTrue(text.contains("#SBATCH --array=0-3\n"), text);
        assertTrue(text.contains("#SBATCH --requeue\n"), text);
        assertTrue(text.contains("#SBATCH --output=" + out.resolve("logs") + "/grid-%A_%a.log\n"), text);
        assertTrue(text.contains("#SBATCH --gres=gpu:1\n"), text);

        Path file = tmp.resolve("grid.sbatch");
        Files.writeString(file, text);
        ProcessBuilder pb = new ProcessBuilder("bash", file.toString());
        pb.environment().put("SLURM_ARRAY_TASK_ID", "2");
        Process p = pb.start();
        List<String> printed =
                new String(p.getInputStream().readAllBytes()).lines().toList();
        assertEquals(0, p.waitFor());
        List<String> expected = new ArrayList<>(flags);
        expected.addAll(List.of(
                "-jar", jar.toString(), "grid", "--models", "/models/gpt2 xl", "--keep", "1,2", "--shard", "2/4"));
        assertEquals(expected, printed);

        String report = script.reportScript(file);
        assertTrue(report.contains("#SBATCH --partition=gpu\n"), report);
        assertFalse(report.contains("--gres"), "the report needs no GPU: " + report);
        assertTrue(report.contains("report " + out), report);
    }

    @Test
    void theJarIsCopiedOnceUnderItsContentsHash() throws Exception {
        Path jar = tmp.resolve("slim.jar");
        Files.writeString(jar, "first build");
        Path dir = tmp.resolve("out/.slim");
        Path first = SlurmScript.Launch.copy(jar, dir);
        assertEquals(first, SlurmScript.Launch.copy(jar, dir), "the same build is copied once");
        Files.writeString(jar, "second build");
        Path second = SlurmScript.Launch.copy(jar, dir);
        assertNotEquals(first, second, "a rebuild never replaces the jar a running array uses");
        assertEquals("first build", Files.readString(first));
        assertTrue(first.getFileName().toString().matches("slim-[0-9a-f]{12}\\.jar"), first.toString());
    }

    @Test
    void badSlurmOptionsAreRefused() {
        var launch = new SlurmScript.Launch(Path.of("java"), List.of(), List.of(Path.of("slim.jar")), Map.of());
        assertThrows(SlimException.class, () -> new SlurmScript(launch, List.of(), 2, tmp, List.of("partition=gpu")));
    }
}
