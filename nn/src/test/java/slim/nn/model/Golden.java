package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import slim.nn.Shared;

/** What the golden tests share: finding and reading golden.json files, and comparing within fp32 tolerance. */
final class Golden {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** fp32 agreement: max |diff| within this fraction of the reference's largest magnitude. */
    static final double TOLERANCE = 1e-4;

    private Golden() {}

    /** The checks of one golden folder, given the folder and its golden.json. */
    @FunctionalInterface
    interface Checks {
        Stream<DynamicTest> of(Path dir, JsonNode golden);
    }

    /**
     * One container of checks per golden folder (under each ../shared/{sharedSubdir} and the folder
     * -D{property} names), failing when fewer than atLeast folders are found.
     */
    static Stream<DynamicNode> perFolder(String property, int atLeast, Checks checks, String... sharedSubdirs)
            throws IOException {
        List<Path> folders = folders(property, sharedSubdirs);
        assertTrue(
                folders.size() >= atLeast,
                "expected at least " + atLeast + " golden folders under " + String.join(", ", sharedSubdirs)
                        + ", found " + folders);
        return folders.stream()
                .map(dir -> DynamicContainer.dynamicContainer(
                        dir.getFileName().toString(), checks.of(dir, read(dir.resolve("golden.json")))));
    }

    /** Every folder with a golden.json under each ../shared/{sharedSubdir} and under the folder -D{property} names. */
    static List<Path> folders(String property, String... sharedSubdirs) throws IOException {
        List<Path> roots = new ArrayList<>();
        for (String subdir : sharedSubdirs) roots.add(Shared.resolve(subdir));
        String extra = System.getProperty(property);
        if (extra != null && !extra.isBlank()) roots.add(Path.of(extra));
        List<Path> folders = new ArrayList<>();
        for (Path root : roots) {
            if (Files.isRegularFile(root.resolve("golden.json"))) folders.add(root);
            try (Stream<Path> s = Files.list(root)) {
                s.filter(d -> Files.isRegularFile(d.resolve("golden.json")))
                        .sorted()
                        .forEach(folders::add);
            }
        }
        return folders;
    }

    static JsonNode read(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode n) {
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) out[i] = n.get(i).intValue();
        return out;
    }

    /** The numbers of a (nested) JSON array, flattened row-major. */
    static float[] floats(JsonNode n) {
        List<Float> flat = new ArrayList<>();
        flatten(n, flat);
        float[] out = new float[flat.size()];
        for (int i = 0; i < out.length; i++) out[i] = flat.get(i);
        return out;
    }

    private static void flatten(JsonNode n, List<Float> out) {
        if (n.isArray()) {
            for (JsonNode c : n) flatten(c, out);
        } else {
            out.add(n.floatValue());
        }
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double maxRef = 0, maxDiff = 0;
        int worst = -1;
        for (int i = 0; i < expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            double d = Math.abs(expected[i] - actual[i]);
            if (d > maxDiff || Double.isNaN(d)) {
                maxDiff = d;
                worst = i;
                if (Double.isNaN(d)) break; // fails below: NaN is never within tolerance
            }
        }
        double allowed = TOLERANCE * Math.max(maxRef, 1e-3);
        final int w = worst;
        final double md = maxDiff;
        assertTrue(
                maxDiff <= allowed,
                () -> what + ": max |diff| " + md + " at " + w + " (expected " + expected[w] + ", got " + actual[w]
                        + "), allowed " + allowed);
    }

    static void assertClose(double expected, double actual, String what) {
        assertTrue(
                Math.abs(expected - actual) <= TOLERANCE * Math.max(1, Math.abs(expected)),
                what + ": expected " + expected + ", got " + actual);
    }

    /**
     * A classification head (golden c: its score.weight, label, logits, loss and score gradient) on m:
     * the head's logits, loss and gradients, and the gradient of every tensor named in c.get(grads).
     */
    static void assertClassification(Model m, int[] ids, JsonNode c, String grads) {
        float[] score = floats(c.get("score.weight"));
        assertEquals(m.params().score.length(), score.length, "score.weight size");
        System.arraycopy(score, 0, m.params().score.data(), m.params().score.offset(), score.length);
        m.kernels().write(m.params().score);
        m.zeroGrad();
        m.forward(ids, ids.length);
        assertClose(floats(c.get("logits")), m.classLogits().toArray(), "class logits");
        assertClose(
                c.get("loss").doubleValue(), m.loss(new int[] {c.get("label").intValue()}, null), "class loss");
        m.backward();
        m.kernels().read(m.grads().all);
        assertClose(floats(c.get("grad_score.weight")), m.grads().score.toArray(), "grad score.weight");
        assertGradients(m, c.get(grads));
    }

    /** Each named tensor's gradient in the model's gradient block equals the expected one. */
    static void assertGradients(Model m, JsonNode expected) {
        m.kernels().read(m.grads().all);
        int checked = 0;
        for (Map.Entry<String, JsonNode> e : expected.properties()) {
            ParamLayout.Binding b = m.layout().binding(e.getKey());
            assertNotNull(b, "no parameter for golden tensor " + e.getKey());
            assertClose(floats(e.getValue()), m.layout().export(m.grads().block, b), "grad " + e.getKey());
            checked++;
        }
        assertTrue(checked > 0);
    }
}
