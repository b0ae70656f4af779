package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's stderr, as ./slim runs the JVM (experiments/src/main/sh/slim-java), on a
 * pseudo-terminal made by util-linux's script: a progress frame (carriage return, no newline) must
 * reach the terminal while the JVM still runs, the JDK's incubator warning must not, and the JVM
 * must learn whether its stderr is a terminal.
 */
class LauncherTest {
    static final Path LAUNCHER = Path.of("src/main/sh/slim-java").toAbsolutePath();

    @TempDir
    Path tmp;

    /**
     * Prints a frame as ProgressBar does on a terminal, then waits (up to a minute) for the file args[0]; with a
     * second argument "last-words", says them from a shutdown hook, as a stopped grid does.
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 1 && args[1].equals("last-words")) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.println("last words")));
        }
        System.err.print("\rframe terminal=" + ProgressBar.stderrIsTerminal());
        System.err.flush();
        Path go = Path.of(args[0]);
        for (int i = 0; i < 600 && !Files.exists(go); i++) Thread.sleep(100);
    }

    /** slim-java ... LauncherTest ARGS */
    private static List<String> launch(String... args) {
        List<String> command = new ArrayList<>(List.of(
                LAUNCHER.toString(),
                "--add-modules",
                "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                "target/classes:target/test-classes",
                LauncherTest.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** script -q -e -c "slim-java ... LauncherTest GO [2>redirect]" /dev/null */
    private Process start(Path go, String redirect) throws IOException {
        String command = String.join(" ", launch(go.toString(), redirect));
        return environment(
                        new ProcessBuilder("script", "-q", "-e", "-c", command, "/dev/null").redirectErrorStream(true))
                .start();
    }

    private static ProcessBuilder environment(ProcessBuilder pb) {
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("TERM", "xterm");
        pb.environment().remove(ProgressBar.TTY_ENV);
        return pb;
    }

    /**
     * The launcher's filter outlives the JVM by a moment: it passes what the JVM wrote last after the JVM has
     * gone, so the test reads the log until the text is there (or ten seconds have passed).
     */
    private static String logOnceItHas(Path log, String text) throws Exception {
        for (int i = 0; i < 100 && !Files.readString(log).contains(text); i++) Thread.sleep(100);
        return Files.readString(log);
    }

    @Test
    void framesReachATerminalAtOnceAndTheIncubatorWarningDoesNot() throws Exception {
        Path go = tmp.resolve("go");
        Process p = start(go, "");
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        InputStream in = p.getInputStream();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        byte[] buf = new byte[4096];
        // the JVM waits for go, so the frame can only have come through while it runs
        while (!seen.toString(StandardCharsets.UTF_8).contains("frame terminal=true") && System.nanoTime() < deadline) {
            if (in.available() > 0) {
                seen.write(buf, 0, in.read(buf));
            } else if (p.isAlive()) {
                Thread.sleep(20);
            } else {
                seen.write(in.readAllBytes());
                break;
            }
        }
        String early = seen.toString(StandardCharsets.UTF_8);
        Files.createFile(go);
        seen.write(in.readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertTrue(early.contains("\rframe terminal=true"), "the frame did not arrive while the JVM ran: " + early);
        assertFalse(seen.toString(StandardCharsets.UTF_8).contains("incubator"), seen.toString(StandardCharsets.UTF_8));
        assertEquals(0, p.exitValue());
    }

    @Test
    void stderrToAFileIsNotATerminalEvenFromOne() throws Exception {
        Path go = tmp.resolve("go"), log = tmp.resolve("log");
        Files.createFile(go);
        Process p = start(go, "2>" + log);
        p.getInputStream().transferTo(OutputStream.nullOutputStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        String text = logOnceItHas(log, "frame terminal=false");
        assertTrue(text.contains("frame terminal=false"), text);
        assertFalse(text.contains("incubator"), text);
    }

    /**
     * SIGTERM to the whole process group (kill -- -PGID, a batch system, systemd; Ctrl-C and hang-ups likewise reach
     * the group) stops the JVM and the launcher's stderr filter at once; the filter must live on to pass the JVM's
     * last words, such as a stopped grid's line on how to resume.
     */
    @Test
    void theJvmsLastWordsAfterASignalToItsGroupComeThrough() throws Exception {
        Path go = tmp.resolve("go"), log = tmp.resolve("log");
        List<String> command = new ArrayList<>(List.of("setsid"));
        command.addAll(launch(go.toString(), "last-words"));
        Process p = environment(new ProcessBuilder(command))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(log.toFile())
                .start();
        // setsid runs the launcher as the leader of a new group (it execs java, so the pid stays)
        logOnceItHas(log, "frame terminal=false");
        Process kill = new ProcessBuilder("kill", "-TERM", "--", "-" + p.pid())
                .redirectErrorStream(true)
                .start();
        assertEquals(0, kill.waitFor(), new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String text = logOnceItHas(log, "last words");
        assertTrue(text.contains("last words"), "the shutdown hook's line was lost: " + text);
    }

    /**
     * An ahead-of-time cache the JVM cannot use (./slim's from before a rebuild, or any other file) changes nothing.
     */
    @Test
    void anUnusableAheadOfTimeCacheIsIgnoredQuietly() throws Exception {
        Path go = tmp.resolve("go"), garbage = tmp.resolve("stale.aot");
        Files.createFile(go);
        Files.writeString(garbage, "not a cache");
        for (Path cache : List.of(garbage, tmp.resolve("missing.aot"))) {
            List<String> command = launch(go.toString());
            command.add(1, "-XX:AOTCache=" + cache);
            Process p = environment(new ProcessBuilder(command))
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            assertEquals("\rframe terminal=false", out, "what the JVM printed with " + cache.getFileName());
        }
    }
}
