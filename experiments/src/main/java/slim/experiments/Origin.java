package slim.experiments;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import slim.data.Dataset;
import slim.data.Tokenizer;
import slim.nn.SlimException;
import slim.nn.io.Checkpoint;

/**
 * What a result was made from beyond its cell and protocol: the model by its content, not its folder's name, and
 * the data files the cell read. Two results whose origins differ must not be reused as each other or averaged
 * together (a grid over another model in a folder of the same name, or over other data with --data, would report
 * the first one's numbers as its own), so the difference is named instead.
 *
 * @param modelFingerprint SHA-256 (hex) of the model folder's config.json, the tokenizer files it has
 *                         ({@link Tokenizer#FILES}) and its checkpoint's {@link Checkpoint#fingerprint()}
 * @param dataFiles        the files the cell's examples were drawn from, by role: {@code train} and {@code test}
 */
public record Origin(String modelFingerprint, Map<String, DataFile> dataFiles) {

    /** One data file as the cell read it: its path then (for people; not compared), size and SHA-256 (hex). */
    public record DataFile(String path, long bytes, String sha256) {

        static DataFile of(Path file) {
            MessageDigest sha = Checkpoint.sha256();
            try {
                hash(file, sha);
                return new DataFile(
                        file.toAbsolutePath().normalize().toString(),
                        Files.size(file),
                        HexFormat.of().formatHex(sha.digest()));
            } catch (IOException e) {
                throw new SlimException(file + ": cannot read: " + e.getMessage(), e);
            }
        }
    }

    /** The origin of a cell on model with data; reads the model's config, tokenizer and a sample of its weights. */
    static Origin of(Path model, Dataset data) {
        Map<String, DataFile> files = new LinkedHashMap<>();
        files.put("train", DataFile.of(data.trainFile()));
        files.put("test", DataFile.of(data.testFile()));
        return new Origin(modelFingerprint(model), files);
    }

    /** See {@link #modelFingerprint()}. */
    static String modelFingerprint(Path model) {
        MessageDigest sha = Checkpoint.sha256();
        try {
            for (String name : Stream.concat(Stream.of("config.json"), Tokenizer.FILES.stream())
                    .toList()) {
                Path file = model.resolve(name);
                if (!Files.isRegularFile(file)) continue;
                sha.update((name + "\n").getBytes(StandardCharsets.UTF_8));
                hash(file, sha);
            }
        } catch (IOException e) {
            throw new SlimException(model + ": cannot read: " + e.getMessage(), e);
        }
        try (Checkpoint checkpoint = Checkpoint.open(model)) {
            sha.update(checkpoint.fingerprint().getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void hash(Path file, MessageDigest sha) throws IOException {
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) sha.update(buffer, 0, n);
        }
    }

    /**
     * How a result's origin (was; null in files written before schema 3) differs from the origin of the cell run now,
     * as a sentence about the result, or null when they are alike.
     */
    static String difference(Origin was, Origin now) {
        if (was == null) {
            return "written before results recorded which model and data made them (schema_version < 3), so it"
                    + " cannot be vouched for";
        }
        String model = modelDifference(was, now, "the result's", "now");
        String data = model != null ? null : dataDifference(was, now, "the result's", "now");
        return model == null && data == null ? null : "made from " + (model != null ? model : data);
    }

    /** How b's model differs from a's, each named by its label, or null. */
    private static String modelDifference(Origin a, Origin b, String aLabel, String bLabel) {
        if (Objects.equals(a.modelFingerprint, b.modelFingerprint)) return null;
        return "another model: " + aLabel + " fingerprint " + shortHash(a.modelFingerprint) + ", " + bLabel + " "
                + shortHash(b.modelFingerprint) + " (other weights, config or tokenizer in a folder of the same name)";
    }

    /** How b's data files differ from a's, each named by its label, or null. */
    private static String dataDifference(Origin a, Origin b, String aLabel, String bLabel) {
        for (String role : List.of("train", "test")) {
            DataFile x = a.dataFiles == null ? null : a.dataFiles.get(role);
            DataFile y = b.dataFiles == null ? null : b.dataFiles.get(role);
            if (x == null || y == null || !x.sha256().equals(y.sha256())) {
                return "other " + role + " data: " + aLabel + " " + describe(x) + ", " + bLabel + " " + describe(y);
            }
        }
        return null;
    }

    private static String describe(DataFile f) {
        return f == null ? "none recorded" : f.path() + " (sha256 " + shortHash(f.sha256()) + ")";
    }

    private static String shortHash(String hex) {
        return hex == null ? "none" : hex.substring(0, Math.min(12, hex.length()));
    }

    /**
     * How b was made differently from a, in words, or null when they may be reported together: a result's model
     * identity and protocol are compared with another of the same model name, its data with another of the same
     * task.
     */
    static String difference(Result a, Result b) {
        boolean sameModel = a.cell().modelName().equals(b.cell().modelName());
        boolean sameTask = a.cell().task().equals(b.cell().task());
        if (sameModel && !a.protocol().equals(b.protocol()))
            return "another protocol: " + b.protocol().difference(a.protocol(), "in the first", "in the second");
        if ((a.origin() == null) != (b.origin() == null)) {
            Result old = a.origin() == null ? a : b;
            return "only one records which model and data made it; the other has schema_version " + old.schemaVersion()
                    + ", from before results recorded them";
        }
        if (a.origin() == null) return null;
        String model = sameModel ? modelDifference(a.origin(), b.origin(), "the first's", "the second's") : null;
        if (model != null) return model;
        return sameTask ? dataDifference(a.origin(), b.origin(), "the first's", "the second's") : null;
    }
}
