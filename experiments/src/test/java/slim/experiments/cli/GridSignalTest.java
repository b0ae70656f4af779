package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.Shared;

/**
 * SIGTERM (a scheduler's stop) and SIGINT (Ctrl-C) end a grid with one line saying how many cells finished, where
 * their results are and that the same command resumes; and it does: a re-run counts them as done.
 */
class GridSignalTest {
    static final Pattern STOPPED = Pattern.compile(
            "grid stopped: (\\d+) of the (\\d+) cells to run finished \\(results in (.+)\\); run the same command"
                    + " again to resume");

    @TempDir
    Path tmp;

    private String[] grid(Path out) {
        return Cli.tiny(
                "grid --model %s -k 1 --tasks trec --settings cls-plain --seeds 0,1,2,3,4,5,6,7 --data %s --out %s",
                Cli.STORIES, Shared.resolve("datasets"), out);
    }

    private static long results(Path out) throws IOException {
        if (!Files.isDirectory(out)) return 0;
        try (Stream<Path> files = Files.list(out)) {
            return files.filter(f -> f.getFileName().toString().matches("[^.].*_s\\d+\\.json"))
                    .count();
        }
    }

    /**
     * Runs the grid in a JVM of its own, sends it the signal once a cell more than before has its result, and
     * returns the number of finished cells its last line states (checked against the result files).
     */
    private int runUntilSignalled(Path out, String signal, int toRun) throws Exception {
        long before = results(out);
        // perl first resets SIGINT and SIGTERM to their defaults: a test run started in the background of a
        // non-interactive shell inherits SIGINT ignored, an ignored signal stays ignored across exec, and the JVM
        // then never sees Ctrl-C. (perl-base is part of every Debian system.)
        List<String> command = new ArrayList<>(List.of(
                "perl",
                "-e",
                "$SIG{INT} = $SIG{TERM} = 'DEFAULT'; exec { $ARGV[0] } @ARGV or die \"exec $ARGV[0]: $!\\n\"",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules",
                "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                "-Dai.djl.offline=true",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(grid(out)));
        Path stderr = tmp.resolve("stderr-" + signal);
        Process p = new ProcessBuilder(command)
                .redirectOutput(tmp.resolve("stdout-" + signal).toFile())
                .redirectError(stderr.toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (results(out) == before && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(50);
        assertTrue(p.isAlive(), "the grid ended before it was signalled: " + Files.readString(stderr));
        new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
        assertTrue(p.waitFor(1, TimeUnit.MINUTES), "the grid did not stop on " + signal);
        String err = Files.readString(stderr);
        Matcher m = STOPPED.matcher(err);
        assertTrue(m.find(), "no stop line after " + signal + " in: " + err);
        int finished = Integer.parseInt(m.group(1));
        assertEquals(toRun, Integer.parseInt(m.group(2)), err);
        assertEquals(out.toString(), m.group(3));
        long files = results(out) - before;
        // a cell whose result was written as the signal came may not be counted yet
        assertTrue(
                finished >= 1 && (finished == files || finished == files - 1), finished + " of " + files + ": " + err);
        assertTrue(finished < toRun, "it was stopped mid-run: " + err);
        return finished;
    }

    @Test
    void aSignalledGridSaysWhatIsDoneAndTheSameCommandResumes() throws Exception {
        Path out = tmp.resolve("grid");
        runUntilSignalled(out, "TERM", 8);
        long done = results(out);
        runUntilSignalled(out, "INT", 8 - (int) done);
        done = results(out);
        Cli.Run rest = Cli.run(grid(out));
        assertEquals(0, rest.code(), rest.err());
        assertTrue(
                rest.out()
                        .contains("8 cells in the grid, 8 in this shard: " + done + " were done already, " + (8 - done)
                                + " ran now"),
                rest.out());
    }
}
