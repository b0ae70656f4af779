package slim.experiments;

import java.util.Locale;

/** Parameter counts as the paper writes them, for tables and `slim info`. */
public final class ParamCount {
    private ParamCount() {}

    /** 1.6B, 819M, 260K, 512. */
    public static String human(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.1fB", n / 1e9);
        if (n >= 1_000_000L) return Math.round(n / 1e6) + "M";
        if (n >= 1_000L) return Math.round(n / 1e3) + "K";
        return Long.toString(n);
    }
}
