package slim.nn.model;

import java.util.Locale;
import slim.nn.SlimException;

/** How k layers are chosen from a model's layers. */
public enum LayerSelection {
    /** The study's: layers 0..k-1. */
    FIRST,
    /** ShortGPT's: the k layers of highest Block Influence over all tokens. */
    BI,
    /** Gromov et al.'s: drop the contiguous block whose input and output are closest in angle at the last token. */
    ANGULAR;

    /** The name used on the command line and in results. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static LayerSelection fromLabel(String label) {
        for (LayerSelection s : values()) if (s.label().equals(label.strip())) return s;
        throw new SlimException("unknown layer selection '" + label + "' (expected first, bi or angular)");
    }
}
