package slim.nn.kernels;

/**
 * One attention call: the query rows [q0, q0 + Tq) of a sequence of T rows, whose keys and values all T rows
 * provide. A full pass asks every row (q0 = 0, Tq = T); a last-token head only the last rows; a pass after a
 * cached prefix the rows past it.
 */
public record AttentionShape(AttentionHeads heads, int T, int q0, int Tq) {

    public AttentionShape {
        if (T <= 0 || q0 < 0 || Tq < 0 || q0 + Tq > T) {
            throw new IllegalArgumentException(
                    "attention query rows [" + q0 + ", +" + Tq + ") do not lie within the " + T + " rows");
        }
    }

    /** How many keys query row t sees: rows 0..t when causal, else all T. */
    public int keys(int t) {
        return heads.causal() ? t + 1 : T;
    }
}
