package slim.experiments;

import java.io.PrintStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Progress on stderr, in the form the reader can use. On a terminal: one line rewritten in place
 * (carriage return) at most five times a second. Elsewhere (a log file, a pipe, a scheduler's
 * output): the same line written out in full every 30 seconds, so that a log shows how far a run is
 * without filling up with frames; {@link #log} lines are written in both.
 */
public final class ProgressBar {
    /** Set to 1 or 0 by the launcher (experiments/src/main/sh/slim-java), which sees the real stderr. */
    public static final String TTY_ENV = "SLIM_STDERR_TTY";

    private static final long REDRAW_NANOS = 200_000_000L;
    static final long LOG_NANOS = 30_000_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final long interval;
    private long lastDraw;
    private int lastLength;

    /** @param interval nanoseconds between progress lines when not on a terminal */
    ProgressBar(PrintStream out, boolean terminal, long interval) {
        this.out = out;
        this.terminal = terminal;
        this.interval = interval;
        this.lastDraw = terminal ? 0 : System.nanoTime();
    }

    public ProgressBar(PrintStream out, boolean terminal) {
        this(out, terminal, LOG_NANOS);
    }

    /** On stderr: a live line when stderr is a terminal, periodic lines otherwise. */
    public static ProgressBar stderr() {
        return new ProgressBar(System.err, stderrIsTerminal());
    }

    /** Quiet: for tests and library use. */
    public static ProgressBar none() {
        return new ProgressBar(new PrintStream(PrintStream.nullOutputStream()), false);
    }

    /**
     * Whether stderr is a terminal that understands a carriage return: what the launcher saw, else
     * isatty(2) (a JVM started directly); never for TERM=dumb (an editor's shell buffer, say).
     */
    @SuppressWarnings("restricted") // a downcall: ./slim and the tests run with --enable-native-access=ALL-UNNAMED
    public static boolean stderrIsTerminal() {
        if ("dumb".equals(System.getenv("TERM"))) return false;
        String launcher = System.getenv(TTY_ENV);
        if (launcher != null) return launcher.equals("1");
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle isatty = linker.downcallHandle(
                    linker.defaultLookup().find("isatty").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) isatty.invokeExact(2) == 1;
        } catch (Throwable e) {
            return false; // no C library to ask (or native access denied): plain lines are safe anywhere
        }
    }

    /** Whether the line is redrawn in place; elsewhere it is written out now and then. */
    public boolean terminal() {
        return terminal;
    }

    /**
     * Whether a {@link #show} now would write: callers skip building the line when not. Force draws
     * at once on a terminal (a bar that reached its end); elsewhere only the interval counts.
     */
    public boolean due(boolean force) {
        long since = System.nanoTime() - lastDraw;
        return terminal ? force || since >= REDRAW_NANOS : since >= interval;
    }

    /** Shows the line: in place of the previous one on a terminal, as a line of the log elsewhere. */
    public void show(String line, boolean force) {
        if (!due(force)) return;
        lastDraw = System.nanoTime();
        if (!terminal) {
            out.println(line);
            out.flush();
            return;
        }
        String padded = line.length() < lastLength ? line + " ".repeat(lastLength - line.length()) : line;
        out.print("\r" + padded);
        out.flush();
        lastLength = line.length();
    }

    /** A permanent line (above the bar on a terminal). */
    public void log(String line) {
        clear();
        out.println(line);
        out.flush();
    }

    public void clear() {
        if (terminal && lastLength > 0) {
            out.print("\r" + " ".repeat(lastLength) + "\r");
            out.flush();
            lastLength = 0;
        }
    }

    /** "[#####.....]" for a fraction in [0, 1]. */
    static String bar(double fraction, int width) {
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * width);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
    }

    /** "1h02m", "4m10s", "12s". */
    public static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) return "?";
        long s = Math.round(seconds);
        if (s >= 3600) return String.format("%dh%02dm", s / 3600, s % 3600 / 60);
        if (s >= 60) return String.format("%dm%02ds", s / 60, s % 60);
        return s + "s";
    }

    /** Remaining time when done of total took elapsed seconds. */
    static String eta(double elapsed, double done, double total) {
        return done <= 0 ? "?" : duration(elapsed / done * (total - done));
    }
}
