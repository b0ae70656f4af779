package slim.nn.kernels;

/**
 * A model's attention heads: H query heads sharing KV key/value heads (grouped-query when KV < H), each D
 * wide, causal for decoders. A fused qkv row holds the H query heads, then the KV key heads, then the KV
 * value heads.
 */
public record AttentionHeads(int H, int KV, int D, boolean causal) {

    public AttentionHeads {
        if (H <= 0 || KV <= 0 || D <= 0 || H % KV != 0) {
            throw new IllegalArgumentException(
                    "attention needs positive head counts with H a multiple of KV: H=" + H + " KV=" + KV + " D=" + D);
        }
    }

    /** The query rows [q0, q0 + Tq) of T, attending to the keys and values of all T rows. */
    public AttentionShape rows(int T, int q0, int Tq) {
        return new AttentionShape(this, T, q0, Tq);
    }

    /** Width of one fused qkv row, (H + 2·KV)·D. */
    public int row() {
        return (H + 2 * KV) * D;
    }

    /** Query heads per key/value head. */
    public int group() {
        return H / KV;
    }

    /** 1/√D, the scale of the scores. */
    public float scale() {
        return (float) (1.0 / Math.sqrt(D));
    }

    /** Where key head g starts within a qkv row. */
    public int keyColumn(int g) {
        return H * D + g * D;
    }

    /** Where value head g starts within a qkv row. */
    public int valueColumn(int g) {
        return (H + KV) * D + g * D;
    }
}
