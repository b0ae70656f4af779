package slim.nn.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.nn.Shared;
import slim.nn.SlimException;

/**
 * Mutants of the hub's PyTorch layouts (../shared/hub-layouts: one fp32 pytorch_model.bin, and fp16 shards with
 * their index), damaged the ways files get damaged: a byte of the state dict's pickle or of the zip's own records
 * overwritten, the file cut short or extended, the index cut or pointing elsewhere. Every mutant must be refused with
 * a SlimException naming the damaged file, or load to exactly the original weights. The storages' bytes themselves
 * are left alone: slim maps them unchecked (as it does safetensors' data), so a flipped weight bit is not caught.
 */
class BinCheckpointFuzzTest {
    private static final int MUTANTS = 160;

    @TempDir
    Path tmp;

    /** A folder of the hub layouts: its files' bytes, and of each .bin, where the pickle and the storages lie. */
    private record Source(Path dir, List<String> files, List<Bin> bins, int layers) {
        static Source read(String folder) throws IOException {
            Path dir = Shared.resolve("hub-layouts", folder);
            List<String> files = new ArrayList<>();
            List<Bin> bins = new ArrayList<>();
            try (var list = Files.list(dir)) {
                for (Path f : list.sorted().toList()) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(".json") && !name.equals("config.json") && !name.contains("index")) continue;
                    files.add(name);
                    if (name.endsWith(".bin")) bins.add(Bin.read(f));
                }
            }
            return new Source(dir, files, bins, ModelConfig.read(dir).layers());
        }
    }

    /** One .bin: its bytes, the pickle's byte range and the storages' ranges, as [begin, end) pairs. */
    private record Bin(String name, byte[] bytes, long[] pickle, List<long[]> storages) {
        static Bin read(Path file) throws IOException {
            long[] pickle = null;
            List<long[]> storages = new ArrayList<>();
            try (ZipFile zip = ZipFile.builder().setPath(file).get()) {
                for (ZipArchiveEntry e :
                        (Iterable<ZipArchiveEntry>) () -> zip.getEntries().asIterator()) {
                    long[] range = {e.getDataOffset(), e.getDataOffset() + e.getCompressedSize()};
                    if (e.getName().endsWith("data.pkl")) pickle = range;
                    else if (e.getName().contains("/data/")) storages.add(range);
                }
            }
            return new Bin(file.getFileName().toString(), Files.readAllBytes(file), pickle, storages);
        }

        boolean inStorage(long at) {
            return storages.stream().anyMatch(r -> at >= r[0] && at < r[1]);
        }
    }

    @Test
    void everyMutantIsRefusedCleanlyOrLoadsTheOriginalWeights() throws IOException {
        Random random = new Random(5);
        List<Source> sources = List.of(Source.read("opt-tiny-bin"), Source.read("opt-tiny-bin-fp16-sharded"));
        Map<String, float[]> originals = new HashMap<>();
        int refused = 0, loaded = 0;
        for (int i = 0; i < MUTANTS; i++) {
            Source s = sources.get(random.nextInt(sources.size()));
            Path dir = Files.createDirectories(tmp.resolve("mutant-" + i));
            for (String f : s.files()) Files.copy(s.dir().resolve(f), dir.resolve(f));
            String what = mutate(s, dir, random);
            int keep = random.nextBoolean() ? 1 : s.layers();
            String label = "mutant " + i + " of " + s.dir().getFileName() + " (" + what + "), keeping " + keep;
            ModelFiles.Options options =
                    ModelFiles.Options.builder().maxTokens(8).build();
            Model model;
            try {
                model = ModelFiles.load(dir, keep, options);
            } catch (SlimException e) {
                String message = e.getMessage();
                assertTrue(
                        message != null && s.files().stream().anyMatch(message::contains),
                        label + ": the refusal does not name the file: " + message);
                refused++;
                continue;
            } catch (RuntimeException | Error e) {
                throw new AssertionError(label + ": failed with " + e + " instead of a SlimException", e);
            }
            float[] original = originals.computeIfAbsent(
                    s.dir() + " " + keep,
                    k -> ModelFiles.load(s.dir(), keep, options).params().block);
            assertArrayEquals(original, model.params().block, 0f, label + ": other weights loaded");
            loaded++;
        }
        assertTrue(
                refused > MUTANTS / 2 && loaded > 10,
                refused + " refused, " + loaded + " loaded: the mutations miss their aim");
    }

    /** Writes a copied file anew (the copies keep the shared folder's read-only mode). */
    private static void replace(Path file, byte[] bytes) throws IOException {
        Files.delete(file);
        Files.write(file, bytes);
    }

    /** Damages one file of the copy in dir and says how. */
    private static String mutate(Source s, Path dir, Random random) throws IOException {
        Bin bin = s.bins().get(random.nextInt(s.bins().size()));
        byte[] bytes = bin.bytes().clone();
        Path file = dir.resolve(bin.name());
        switch (random.nextInt(6)) {
            case 0, 1 -> {
                long at = bin.pickle()[0] + random.nextInt((int) (bin.pickle()[1] - bin.pickle()[0]));
                bytes[(int) at] ^= (byte) (1 + random.nextInt(255));
                replace(file, bytes);
                return bin.name() + ": pickle byte " + at + " changed";
            }
            case 2 -> {
                long at;
                do at = random.nextInt(bytes.length);
                while (bin.inStorage(at) || (at >= bin.pickle()[0] && at < bin.pickle()[1]));
                bytes[(int) at] ^= (byte) (1 + random.nextInt(255));
                replace(file, bytes);
                return bin.name() + ": zip record byte " + at + " changed";
            }
            case 3 -> {
                int length = random.nextInt(bytes.length);
                replace(file, Arrays.copyOf(bytes, length));
                return bin.name() + " cut to " + length + " bytes";
            }
            case 4 -> {
                replace(file, Arrays.copyOf(bytes, bytes.length + 1 + random.nextInt(64)));
                return bin.name() + " extended";
            }
            default -> {
                Path index = dir.resolve("pytorch_model.bin.index.json");
                if (!Files.exists(index)) {
                    replace(file, Arrays.copyOf(bytes, bytes.length / 2));
                    return bin.name() + " cut in half";
                }
                String text = Files.readString(index);
                String damaged = random.nextBoolean()
                        ? text.substring(0, random.nextInt(text.length()))
                        : text.replaceFirst("00002-of", "00001-of");
                replace(index, damaged.getBytes(StandardCharsets.UTF_8));
                return "index " + (damaged.length() < text.length() ? "cut" : "points a tensor to the other shard");
            }
        }
    }
}
