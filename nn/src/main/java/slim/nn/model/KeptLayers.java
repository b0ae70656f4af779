package slim.nn.model;

import java.util.ArrayList;
import java.util.List;
import slim.nn.SlimException;

/**
 * Which of a model's layers are kept, by their original indices in ascending order. The study
 * keeps the first k ({@link #first}); any other set, written like {@code 0-3,7,11}, is loaded the
 * same way and renumbered 0..n-1 in memory and in a pruned checkpoint.
 */
public record KeptLayers(List<Integer> indices) {

    /** Guards parse against a typo like 0-1000000000 allocating before the model's depth is checked. */
    private static final int MAX_RANGE = 1 << 16;

    public KeptLayers {
        indices = List.copyOf(indices);
        if (indices.isEmpty()) throw new SlimException("no layers kept: name at least one");
        for (int i = 0; i < indices.size(); i++) {
            int l = indices.get(i);
            if (l < 0) throw new SlimException("layer " + l + " is negative: layers count from 0");
            if (i > 0 && l <= indices.get(i - 1)) {
                throw new SlimException("layers must be ascending without repeats, but " + l + " follows "
                        + indices.get(i - 1) + " in " + formatted(indices));
            }
        }
    }

    /** The study's choice: layers 0..k-1. */
    public static KeptLayers first(int k) {
        if (k < 1) throw new SlimException("cannot keep " + k + " layers (k must be at least 1)");
        List<Integer> l = new ArrayList<>(k);
        for (int i = 0; i < k; i++) l.add(i);
        return new KeptLayers(l);
    }

    /** Parses comma-separated indices and inclusive ranges, e.g. {@code 0-3,7,11}. */
    public static KeptLayers parse(String spec) {
        if (spec == null || spec.isBlank()) throw new SlimException("empty layer list: expected e.g. 0-3,7,11");
        List<Integer> l = new ArrayList<>();
        for (String part : spec.split(",", -1)) {
            String p = part.strip();
            int dash = p.indexOf('-', 1);
            try {
                if (dash < 0) {
                    l.add(Integer.parseInt(p));
                } else {
                    int from = Integer.parseInt(p.substring(0, dash).strip());
                    int to = Integer.parseInt(p.substring(dash + 1).strip());
                    if (to < from) throw new SlimException("layer range '" + p + "' in '" + spec + "' runs backwards");
                    if (to - from > MAX_RANGE) {
                        throw new SlimException("layer range '" + p + "' is longer than any model");
                    }
                    for (int i = from; i <= to; i++) l.add(i);
                }
            } catch (NumberFormatException e) {
                throw new SlimException(
                        "'" + p + "' in layer list '" + spec + "' is not a layer index or a range" + " like 0-3");
            }
        }
        return new KeptLayers(l);
    }

    public int count() {
        return indices.size();
    }

    /** The original index of the layer held at position i (0..count-1). */
    public int get(int i) {
        return indices.get(i);
    }

    /** True for layers 0..count-1, the study's choice. */
    public boolean isFirst() {
        return indices.getLast() == count() - 1;
    }

    /** Rejects indices the model does not have, naming its config file. */
    public void checkWithin(ModelConfig config) {
        if (indices.getLast() >= config.layers()) {
            throw new SlimException(config.file() + ": cannot keep layer " + indices.getLast() + " of a model with "
                    + config.layers() + " layers (indices run from 0 to " + (config.layers() - 1) + ")");
        }
    }

    /** The shortest spec that parses back to this set: runs of three or more become ranges. */
    public String format() {
        return formatted(indices);
    }

    private static String formatted(List<Integer> indices) {
        StringBuilder s = new StringBuilder();
        int i = 0;
        while (i < indices.size()) {
            int j = i;
            while (j + 1 < indices.size() && indices.get(j + 1) == indices.get(j) + 1) j++;
            if (!s.isEmpty()) s.append(',');
            if (j - i >= 2) {
                s.append(indices.get(i)).append('-').append(indices.get(j));
            } else {
                for (int x = i; x <= j; x++) s.append(x > i ? "," : "").append(indices.get(x));
            }
            i = j + 1;
        }
        return s.toString();
    }

    @Override
    public String toString() {
        return format();
    }
}
