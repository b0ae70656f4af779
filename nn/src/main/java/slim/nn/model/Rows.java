package slim.nn.model;

/**
 * Which rows a forward pass computes over a sequence of T tokens. Rows [0, cached) come from a prefix whose keys
 * and values {@link Model#cachePrefix} kept; every kept block but the last computes rows [cached, T); the last
 * block computes keys and values there too (every query may attend to them) but its output only for rows
 * [headFrom, headTo), the ones a head reads: with the head at the last position every other row of the last
 * block (its attention output, residuals, MLP and final norm) is work nobody reads.
 *
 * @param T        tokens in the sequence
 * @param cached   leading rows whose keys and values come from the cached prefix (evaluation only)
 * @param headFrom first row of the last block's output
 * @param headTo   one past its last row
 */
public record Rows(int T, int cached, int headFrom, int headTo) {

    public Rows {
        if (T < 1 || cached < 0 || cached >= T || headFrom < cached || headTo < headFrom || headTo > T) {
            throw new IllegalArgumentException("rows: T " + T + ", cached " + cached + ", head [" + headFrom + ", "
                    + headTo + ") (need 0 <= cached < T and cached <= head rows <= T)");
        }
    }

    /** Every row: the causal-LM head at every position, mean pooling, or the full pass to compare against. */
    public static Rows all(int T) {
        return new Rows(T, 0, 0, T);
    }

    /** The head reads only rows [from, to). */
    public Rows head(int from, int to) {
        return new Rows(T, cached, from, to);
    }

    /** The head reads only the last row (the study's LM head and a decoder's classification head). */
    public Rows lastRow() {
        return head(T - 1, T);
    }

    /** Rows [0, P) come from the cached prefix. */
    public Rows afterPrefix(int P) {
        return new Rows(T, P, headFrom, headTo);
    }

    /** Whether the head rows cover [from, to). */
    boolean computes(int from, int to) {
        return headFrom <= from && to <= headTo;
    }
}
