package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static slim.nn.model.Golden.assertClose;
import static slim.nn.model.Golden.floats;
import static slim.nn.model.Golden.ints;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import slim.nn.Shared;
import slim.nn.Slice;

/**
 * BertForSequenceClassification's head (--pooling cls-pooler) on bert-tiny's first k layers, against a hand
 * computation from golden.json's hidden states: logits = classifier(tanh(pooler(h[CLS]))) + bias, and the
 * gradient of each head tensor, then of the backbone by finite differences.
 */
class PoolerHeadTest {
    private static final Path DIR = Shared.resolve("golden-encoders", "bert-tiny");
    private static final int LABELS = 3, LABEL = 2;

    @Test
    void logitsAndGradientsAreThoseOfThePoolerThenTheClassifier() {
        JsonNode g = Golden.read(DIR.resolve("golden.json"));
        int[] ids = ints(g.get("input_ids"));
        int k = g.get("pruned").get("k").intValue();
        Model m = ModelFiles.load(
                DIR,
                k,
                ModelFiles.Options.builder()
                        .trainable()
                        .labels(LABELS, Pooling.CLS_POOLER, 7)
                        .maxTokens(ids.length)
                        .build());
        int c = m.config().hidden();
        assertEquals(
                List.of("pooler.dense.weight", "pooler.dense.bias", "classifier.weight", "classifier.bias"),
                m.layout().bindings().stream()
                        .map(ParamLayout.Binding::tensor)
                        .toList()
                        .subList(
                                m.layout().bindings().size() - 4,
                                m.layout().bindings().size()));
        fill(m.params().scoreB, 0.3f); // a new head's bias starts at zero; give it something to show
        fill(m.params().poolerB, -0.05f);

        m.forward(ids, ids.length);
        float[] logits = m.classLogits().toArray();
        float loss = m.loss(new int[] {LABEL}, null);
        m.zeroGrad();
        m.backward();

        float[] h0 = floats(g.get("pruned").get("hidden"));
        float[] wp = m.params().poolerW.toArray(), bp = m.params().poolerB.toArray();
        float[] wc = m.params().score.toArray(), bc = m.params().scoreB.toArray();
        double[] pooled = new double[c];
        for (int o = 0; o < c; o++) {
            double s = bp[o];
            for (int i = 0; i < c; i++) s += wp[o * c + i] * (double) h0[i];
            pooled[o] = Math.tanh(s);
        }
        double[] expected = new double[LABELS];
        for (int l = 0; l < LABELS; l++) {
            expected[l] = bc[l];
            for (int i = 0; i < c; i++) expected[l] += wc[l * c + i] * pooled[i];
        }
        assertClose(toFloats(expected), logits, "logits");
        double max = Math.max(expected[0], Math.max(expected[1], expected[2])), sum = 0;
        double[] dLogits = new double[LABELS];
        for (int l = 0; l < LABELS; l++) sum += Math.exp(expected[l] - max);
        for (int l = 0; l < LABELS; l++) dLogits[l] = Math.exp(expected[l] - max) / sum - (l == LABEL ? 1 : 0);
        assertClose(-Math.log(Math.exp(expected[LABEL] - max) / sum), loss, "loss");

        double[] dWc = new double[LABELS * c], dPre = new double[c], dWp = new double[c * c];
        for (int l = 0; l < LABELS; l++) for (int i = 0; i < c; i++) dWc[l * c + i] = dLogits[l] * pooled[i];
        for (int i = 0; i < c; i++) {
            double dPooled = 0;
            for (int l = 0; l < LABELS; l++) dPooled += wc[l * c + i] * dLogits[l];
            dPre[i] = dPooled * (1 - pooled[i] * pooled[i]);
            for (int j = 0; j < c; j++) dWp[i * c + j] = dPre[i] * h0[j];
        }
        assertClose(toFloats(dLogits), m.grads().scoreB.toArray(), "grad classifier.bias");
        assertClose(toFloats(dWc), m.grads().score.toArray(), "grad classifier.weight");
        assertClose(toFloats(dPre), m.grads().poolerB.toArray(), "grad pooler.dense.bias");
        assertClose(toFloats(dWp), m.grads().poolerW.toArray(), "grad pooler.dense.weight");

        // The backbone receives the pooler's gradient at [CLS]: central differences on the embedding norm's bias.
        Slice bias = m.params().embNormB, grad = m.grads().embNormB;
        for (int i : new int[] {0, c / 2, c - 1}) {
            float keep = bias.get(i), eps = 1e-2f;
            bias.set(i, keep + eps);
            float up = lossOf(m, ids);
            bias.set(i, keep - eps);
            float down = lossOf(m, ids);
            bias.set(i, keep);
            assertEquals((up - down) / (2 * eps), grad.get(i), 2e-3, "grad embeddings.LayerNorm.bias[" + i + "]");
        }
    }

    private static float lossOf(Model m, int[] ids) {
        m.forward(ids, ids.length);
        m.classLogits();
        return m.loss(new int[] {LABEL}, null);
    }

    private static void fill(Slice s, float v) {
        for (int i = 0; i < s.length(); i++) s.set(i, v + 0.01f * i);
    }

    private static float[] toFloats(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }
}
