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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import slim.nn.Shared;

/** What the golden tests share: finding and reading golden.json files, and comparing within fp32 tolerance. */
final class Golden {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** fp32 agreement: max |diff| within this fraction of the reference's largest magnitude. */
    static final double TOLERANCE = 1e-4;

    private Golden() {}

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
                s.filter(d -> Files.isRegularFile(d.resolve("golden.json"))).sorted().forEach(folders::add);
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
        assertTrue(maxDiff <= allowed, () -> what + ": max |diff| " + md + " at " + w + " (expected "
                + expected[w] + ", got " + actual[w] + "), allowed " + allowed);
    }

    static void assertClose(double expected, double actual, String what) {
        assertTrue(Math.abs(expected - actual) <= TOLERANCE * Math.max(1, Math.abs(expected)),
                what + ": expected " + expected + ", got " + actual);
    }

    /** Each named tensor's gradient in the model's gradient block equals the expected one. */
    static void assertGradients(Model m, JsonNode expected) {
        m.kernels().read(m.grads().all);
        int checked = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            ParamLayout.Binding b = m.layout().binding(e.getKey());
            assertNotNull(b, "no parameter for golden tensor " + e.getKey());
            assertClose(floats(e.getValue()), m.layout().export(m.grads().block, b), "grad " + e.getKey());
            checked++;
        }
        assertTrue(checked > 0);
    }
}
