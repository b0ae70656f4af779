package slim.data.fetch;

import java.io.PrintStream;

/** Told how a download goes; total is -1 when the server does not say. */
public interface Progress {
    void update(String name, long done, long total);

    Progress NONE = (name, done, total) -> {};

    /** One line per file and about one a second while it runs, so logs stay readable. */
    static Progress lines(PrintStream out) {
        return new Progress() {
            private String current;
            private long lastPrint;

            @Override
            public void update(String name, long done, long total) {
                long now = System.nanoTime();
                boolean finished = total >= 0 && done >= total;
                if (!name.equals(current) || finished || now - lastPrint > 1_000_000_000L) {
                    current = name;
                    lastPrint = now;
                    String of = total >= 0
                            ? " / " + mb(total) + String.format(" (%d%%)", total == 0 ? 100 : done * 100 / total)
                            : "";
                    out.println(name + ": " + mb(done) + of);
                }
            }

            private static String mb(long bytes) {
                return String.format("%.1f MB", bytes / 1e6);
            }
        };
    }
}
