package slim.nn.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import slim.nn.Slice;
import slim.nn.SlimException;

/**
 * How much each layer of a model changes its input, averaged over prompts: the scores that the
 * alternatives to keeping the first k layers choose by.
 *
 * @param prompts number of prompts averaged
 * @param biAll   [L] Block Influence of layer l (ShortGPT): 1 - cos(h_l, h_{l+1}), mean over all tokens
 * @param biLast  [L] the same at the last token only
 * @param angular [L][L - n + 1] at [n-1][l]: arccos(cos(h_l, h_{l+n})) / pi at the last token, the angular
 *                distance across the block of n layers starting at l (Gromov et al.)
 */
public record LayerScores(int prompts, double[] biAll, double[] biLast, double[][] angular) {

    public int layers() {
        return biAll.length;
    }

    /** The angular distance across the n layers starting at l. */
    public double angular(int n, int l) {
        return angular[n - 1][l];
    }

    /** The k layers a selection keeps, by these scores. */
    public KeptLayers keep(LayerSelection selection, int k) {
        int L = layers();
        if (k < 1 || k > L) throw new SlimException("cannot keep " + k + " of " + L + " layers");
        return switch (selection) {
            case FIRST -> KeptLayers.first(k);
            case BI ->
                new KeptLayers(IntStream.range(0, L)
                        .boxed()
                        .sorted(Comparator.comparingDouble((Integer l) -> -biAll[l])
                                .thenComparing(l -> l))
                        .limit(k)
                        .sorted()
                        .toList());
            case ANGULAR -> {
                int drop = L - k;
                if (drop == 0) yield KeptLayers.first(L);
                int start = 0;
                for (int l = 1; l + drop <= L; l++) if (angular(drop, l) < angular(drop, start)) start = l;
                List<Integer> kept = new ArrayList<>(k);
                for (int l = 0; l < L; l++) if (l < start || l >= start + drop) kept.add(l);
                yield new KeptLayers(kept);
            }
        };
    }

    /** Sums the scores of prompts run through a model of all its layers, one forward pass at a time. */
    public static final class Accumulator {
        private final int layers;
        private final double[] biAll, biLast;
        private final double[][] angular;
        private int prompts;

        public Accumulator(int layers) {
            this.layers = layers;
            biAll = new double[layers];
            biLast = new double[layers];
            angular = new double[layers][];
            for (int n = 1; n <= layers; n++) angular[n - 1] = new double[layers - n + 1];
        }

        /** Adds the prompt of the model's last forward pass, of T tokens. */
        public void add(Model model, int T) {
            if (model.layout().keptLayers() != layers) {
                throw new IllegalArgumentException("scores of " + layers + " layers from a model holding "
                        + model.layout().keptLayers());
            }
            int C = model.config().hidden();
            Slice[] h = new Slice[layers + 1];
            for (int l = 0; l <= layers; l++) {
                h[l] = model.hiddenState(l);
                model.kernels().read(h[l]);
            }
            for (int l = 0; l < layers; l++) {
                double sum = 0;
                for (int t = 0; t < T; t++) sum += 1 - cosine(h[l], h[l + 1], t * C, C);
                biAll[l] += sum / T;
                biLast[l] += 1 - cosine(h[l], h[l + 1], (T - 1) * C, C);
            }
            for (int n = 1; n <= layers; n++) {
                for (int l = 0; l + n <= layers; l++) {
                    double cos = Math.clamp(cosine(h[l], h[l + n], (T - 1) * C, C), -1.0, 1.0);
                    angular[n - 1][l] += Math.acos(cos) / Math.PI;
                }
            }
            prompts++;
        }

        /** The means over the prompts added so far. */
        public LayerScores scores() {
            if (prompts == 0) throw new IllegalStateException("no prompts scored");
            double[][] a = new double[layers][];
            for (int n = 0; n < layers; n++) a[n] = mean(angular[n]);
            return new LayerScores(prompts, mean(biAll), mean(biLast), a);
        }

        private double[] mean(double[] sums) {
            double[] m = new double[sums.length];
            for (int i = 0; i < m.length; i++) m[i] = sums[i] / prompts;
            return m;
        }

        /** Cosine of rows a[off..off+n) and b[off..off+n); 0 when either is all zeros. */
        private static double cosine(Slice a, Slice b, int off, int n) {
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < n; i++) {
                double x = a.get(off + i), y = b.get(off + i);
                dot += x * y;
                na += x * x;
                nb += y * y;
            }
            return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
        }
    }
}
