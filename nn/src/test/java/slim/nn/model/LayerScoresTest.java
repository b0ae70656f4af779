package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import slim.nn.Shared;
import slim.nn.io.Checkpoint;

/**
 * Block Influence and angular distance against a hand computation on bert-tiny, whose hidden
 * state after l blocks is the final output of its first-l model (no final norm) and whose
 * embedding output the test computes itself; and what each selection keeps from given scores.
 */
class LayerScoresTest {
    private static final Path BERT = Shared.resolve("golden-encoders", "bert-tiny");
    private static final int[][] PROMPTS = {{2, 7, 1, 9, 4}, {5, 3, 8}};

    private static ModelFiles.Options options() {
        return ModelFiles.Options.builder()
                .labels(0, Pooling.FIRST, 0)
                .maxTokens(8)
                .build();
    }

    /** [T][C] rows: LayerNorm(word + position + token type 0), read from the checkpoint. */
    private static double[][] embeddings(int[] ids) {
        ModelConfig c = ModelConfig.read(BERT);
        int C = c.hidden();
        try (Checkpoint ckpt = Checkpoint.open(BERT)) {
            float[] wte = tensor(ckpt, "embeddings.word_embeddings.weight");
            float[] wpe = tensor(ckpt, "embeddings.position_embeddings.weight");
            float[] wtt = tensor(ckpt, "embeddings.token_type_embeddings.weight");
            float[] g = tensor(ckpt, "embeddings.LayerNorm.weight"), b = tensor(ckpt, "embeddings.LayerNorm.bias");
            double[][] h = new double[ids.length][C];
            for (int t = 0; t < ids.length; t++) {
                double[] x = new double[C];
                double mean = 0, var = 0;
                for (int i = 0; i < C; i++) {
                    x[i] = wte[ids[t] * C + i] + wpe[t * C + i] + wtt[i];
                    mean += x[i] / C;
                }
                for (int i = 0; i < C; i++) var += (x[i] - mean) * (x[i] - mean) / C;
                for (int i = 0; i < C; i++) h[t][i] = (x[i] - mean) / Math.sqrt(var + c.normEps()) * g[i] + b[i];
            }
            return h;
        }
    }

    private static float[] tensor(Checkpoint ckpt, String name) {
        float[] v = new float[(int) ckpt.info(name).elements()];
        ckpt.read(name, ckpt.info(name).shape(), v, 0, false);
        return v;
    }

    /** Hidden states [L+1][T][C], h[l] after l blocks, each from its own model. */
    private static double[][][] statesByHand(int[] ids, int L) {
        double[][][] h = new double[L + 1][][];
        h[0] = embeddings(ids);
        for (int l = 1; l <= L; l++) {
            Model m = ModelFiles.load(BERT, l, options());
            m.forward(ids, ids.length);
            int C = m.config().hidden();
            h[l] = new double[ids.length][C];
            for (int t = 0; t < ids.length; t++)
                for (int i = 0; i < C; i++) h[l][t][i] = m.hidden().get(t * C + i);
        }
        return h;
    }

    private static double cos(double[] a, double[] b) {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return dot / Math.sqrt(aa) / Math.sqrt(bb);
    }

    @Test
    void scoresMatchAHandComputationOverTwoPrompts() {
        int L = ModelConfig.read(BERT).layers();
        double[] biAll = new double[L], biLast = new double[L];
        double[][] angular = new double[L + 1][L];
        for (int[] ids : PROMPTS) {
            double[][][] h = statesByHand(ids, L);
            int last = ids.length - 1;
            for (int l = 0; l < L; l++) {
                for (int t = 0; t <= last; t++) {
                    biAll[l] += (1 - cos(h[l][t], h[l + 1][t])) / (last + 1) / PROMPTS.length;
                }
                biLast[l] += (1 - cos(h[l][last], h[l + 1][last])) / PROMPTS.length;
            }
            for (int n = 1; n <= L; n++) {
                for (int l = 0; l + n <= L; l++) {
                    angular[n][l] += Math.acos(cos(h[l][last], h[l + n][last])) / Math.PI / PROMPTS.length;
                }
            }
        }
        Model full = ModelFiles.load(BERT, L, options());
        LayerScores.Accumulator acc = new LayerScores.Accumulator(L);
        for (int[] ids : PROMPTS) {
            full.forward(ids, ids.length);
            acc.add(full, ids.length);
        }
        LayerScores s = acc.scores();
        assertEquals(PROMPTS.length, s.prompts());
        for (int l = 0; l < L; l++) {
            assertEquals(biAll[l], s.biAll()[l], 1e-5, "BI over all tokens, layer " + l);
            assertEquals(biLast[l], s.biLast()[l], 1e-5, "BI at the last token, layer " + l);
        }
        for (int n = 1; n <= L; n++) {
            assertEquals(L - n + 1, s.angular()[n - 1].length);
            for (int l = 0; l + n <= L; l++) {
                assertEquals(angular[n][l], s.angular(n, l), 1e-5, "angular n=" + n + " l=" + l);
            }
        }
    }

    @Test
    void eachSelectionKeepsWhatItsScoresSay() {
        double[] bi = {0.30, 0.05, 0.20, 0.01, 0.02, 0.25};
        double[][] angular = new double[6][];
        for (int n = 1; n <= 6; n++) {
            angular[n - 1] = new double[7 - n];
            for (int l = 0; l + n <= 6; l++) angular[n - 1][l] = 0.1 * n + 0.01 * Math.abs(l - 2);
        }
        angular[2][1] = 0.05; // layers 1, 2, 3 change the last token least as a block of three
        LayerScores s = new LayerScores(1, bi, bi, angular);
        assertEquals(KeptLayers.parse("0-2"), s.keep(LayerSelection.FIRST, 3));
        assertEquals(KeptLayers.parse("0,2,5"), s.keep(LayerSelection.BI, 3), "the three of highest BI, ascending");
        assertEquals(KeptLayers.parse("0,4,5"), s.keep(LayerSelection.ANGULAR, 3), "drops the block 1-3");
        assertEquals(KeptLayers.parse("0,1,4,5"), s.keep(LayerSelection.ANGULAR, 4), "drops the pair starting at 2");
        assertEquals(KeptLayers.first(6), s.keep(LayerSelection.ANGULAR, 6));
        List<Integer> all = new ArrayList<>();
        for (int l = 0; l < 6; l++) all.add(l);
        assertEquals(new KeptLayers(all), s.keep(LayerSelection.BI, 6));
    }
}
