package slim.nn.model;

import slim.nn.Slice;

/**
 * Named views into one flat block laid out by a {@link ParamLayout}: the parameters, or their
 * gradients (same layout, same names). Parts a family does not have are null.
 */
public final class Weights {

    /** One transformer block's parameters. */
    public record Layer(
            Slice norm1W,
            Slice norm1B,
            Slice qkvW,
            Slice qkvB,
            Slice attnOutW,
            Slice attnOutB,
            Slice norm2W,
            Slice norm2B,
            Slice fcW,
            Slice fcB,
            Slice projW,
            Slice projB) {}

    public final float[] block;
    public final Slice all, wte, wpe, wtt, embNormW, embNormB, projectIn, projectOut, finalNormW, finalNormB;
    /** The LM head: its own matrix when untied, else the token embedding itself. */
    public final Slice lmHead;
    /** The classification head: `score` (or BERT's `classifier`, with its bias scoreB after the pooler). */
    public final Slice score, scoreB, poolerW, poolerB;

    public final Layer[] layers;

    public Weights(ParamLayout layout, float[] block) {
        this.block = block;
        all = new Slice(block, 0, layout.size());
        wte = layout.slice(block, "wte");
        wpe = layout.slice(block, "wpe");
        wtt = layout.slice(block, "wtt");
        embNormW = layout.slice(block, "embNormW");
        embNormB = layout.slice(block, "embNormB");
        projectIn = layout.slice(block, "projectIn");
        projectOut = layout.slice(block, "projectOut");
        finalNormW = layout.slice(block, "finalNormW");
        finalNormB = layout.slice(block, "finalNormB");
        Slice head = layout.slice(block, "lmHead");
        lmHead = head != null ? head : wte;
        score = layout.slice(block, "score");
        scoreB = layout.slice(block, "scoreB");
        poolerW = layout.slice(block, "poolerW");
        poolerB = layout.slice(block, "poolerB");
        layers = new Layer[layout.keptLayers()];
        for (int l = 0; l < layers.length; l++) {
            String e = ParamLayout.layer(l);
            layers[l] = new Layer(
                    layout.slice(block, e + "norm1W"),
                    layout.slice(block, e + "norm1B"),
                    layout.slice(block, e + "qkvW"),
                    layout.slice(block, e + "qkvB"),
                    layout.slice(block, e + "attnOutW"),
                    layout.slice(block, e + "attnOutB"),
                    layout.slice(block, e + "norm2W"),
                    layout.slice(block, e + "norm2B"),
                    layout.slice(block, e + "fcW"),
                    layout.slice(block, e + "fcB"),
                    layout.slice(block, e + "projW"),
                    layout.slice(block, e + "projB"));
        }
    }
}
