package slim.experiments;

import java.io.PrintStream;

/**
 * One updating line on stderr: rewritten in place (carriage return) on a terminal at most a few
 * times a second; where stderr is a file or pipe only {@link #log} lines are written, so logs stay
 * readable.
 */
public final class ProgressBar {
    private static final long REDRAW_NANOS = 200_000_000L;
    private final PrintStream out;
    private final boolean terminal;
    private long lastDraw;
    private int lastLength;

    public ProgressBar(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** On stderr, redrawn in place when the JVM runs in a terminal. */
    public static ProgressBar stderr() {
        var console = System.console();
        return new ProgressBar(System.err, console != null && console.isTerminal());
    }

    /** Quiet: for tests and library use. */
    public static ProgressBar none() {
        return new ProgressBar(new PrintStream(PrintStream.nullOutputStream()), false);
    }

    /** Whether the line is redrawn in place; elsewhere only log lines are written. */
    public boolean terminal() {
        return terminal;
    }

    /** Whether a {@link #show} now would draw: callers skip building the line when not. */
    public boolean due(boolean force) {
        return terminal && (force || System.nanoTime() - lastDraw >= REDRAW_NANOS);
    }

    /** Shows the line in place of the previous one (throttled unless force). */
    public void show(String line, boolean force) {
        if (!due(force)) return;
        lastDraw = System.nanoTime();
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
