package slim.nn.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import slim.nn.SlimException;

/**
 * A Hugging Face checkpoint folder, in the first of these layouts it has: {@code model.safetensors}, or
 * {@code model.safetensors.index.json} plus the shards it names, or the folder's only {@code *.safetensors} file;
 * else PyTorch's {@code pytorch_model.bin}, or {@code pytorch_model.bin.index.json} plus its {@code .bin} shards
 * ({@link PyTorchFile}: tensors are read in place from the zip, as from safetensors). Headers (and state-dict
 * pickles) are parsed and checked when the checkpoint is opened; a file is memory-mapped only when a tensor is
 * first read from it, so pruning to the first k layers touches only the pages of the tensors kept. Mappings go
 * through {@link FileChannel#map} into an {@link Arena}, which has no 2 GiB limit and unmaps deterministically on
 * {@link #close()}.
 *
 * <p>Reads may run from several threads at once.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String BIN_FILE = "pytorch_model.bin";
    public static final String BIN_INDEX_FILE = "pytorch_model.bin.index.json";

    /** A safetensors header holds a few hundred bytes per tensor: anything this large is not one. */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    /** Rows converted at once when transposing: small enough to stay in cache, large enough to write runs. */
    private static final int TRANSPOSE_ROWS = 32;
    /** {@link #fingerprint()} hashes this many windows of this many bytes per tensor. */
    private static final int SAMPLE_WINDOW = 4096, SAMPLE_WINDOWS = 16;
    /** Strict: trailing tokens and a name given twice (which would leave one of two tensors unchecked) are errors. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path dir;
    /** The file that lists the tensors (the single file or the index), named when a tensor is missing. */
    private final Path listing;

    private final TreeMap<String, TensorInfo> tensors;
    private final Arena arena = Arena.ofShared();
    private final Map<Path, MemorySegment> mapped = new HashMap<>();
    private final AtomicLong bytesRead = new AtomicLong();
    private boolean closed;

    private Checkpoint(Path dir, Path listing, Map<String, TensorInfo> tensors) {
        this.dir = dir;
        this.listing = listing;
        this.tensors = new TreeMap<>(tensors);
    }

    /**
     * Opens a checkpoint folder (or a single {@code .safetensors} or {@code .bin} file) and checks every header.
     *
     * @throws SlimException naming the file (and tensor) if anything is missing or malformed
     */
    public static Checkpoint open(Path dir) {
        if (Files.isRegularFile(dir) && (isSafeTensors(dir) || PyTorchFile.isBin(dir))) {
            return new Checkpoint(dir.toAbsolutePath().getParent(), dir, readFile(dir));
        }
        if (!Files.isDirectory(dir)) throw new SlimException(dir + ": no such checkpoint folder");
        for (String name : List.of(SINGLE_FILE, INDEX_FILE)) {
            Checkpoint c = openListing(dir, name);
            if (c != null) return c;
        }
        List<Path> candidates;
        try (Stream<Path> files = Files.list(dir)) {
            candidates = files.filter(f -> isSafeTensors(f) && Files.isRegularFile(f))
                    .toList();
        } catch (IOException e) {
            throw new SlimException(dir + ": cannot list folder: " + e.getMessage(), e);
        }
        if (candidates.size() == 1)
            return new Checkpoint(dir, candidates.getFirst(), readHeader(candidates.getFirst()));
        for (String name : List.of(BIN_FILE, BIN_INDEX_FILE)) {
            Checkpoint c = openListing(dir, name);
            if (c != null) return c;
        }
        String found = candidates.isEmpty()
                ? ""
                : " (" + candidates.size() + " *.safetensors files but no index to join them)";
        throw new SlimException("no " + SINGLE_FILE + ", " + INDEX_FILE + ", " + BIN_FILE + " or " + BIN_INDEX_FILE
                + " in " + dir + found);
    }

    /** The checkpoint that file {@code name} (weights or an index) lists, or null if the folder has no such file. */
    private static Checkpoint openListing(Path dir, String name) {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) return null;
        return new Checkpoint(dir, file, name.endsWith(".index.json") ? readIndex(dir, file) : readFile(file));
    }

    private static boolean isSafeTensors(Path file) {
        return file.getFileName().toString().endsWith(".safetensors");
    }

    /** A weights file's tensors, by its format. */
    private static Map<String, TensorInfo> readFile(Path file) {
        return PyTorchFile.isBin(file) ? PyTorchFile.readHeader(file) : readHeader(file);
    }

    public Path dir() {
        return dir;
    }

    /** All tensor names, sorted. */
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.navigableKeySet());
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new SlimException(listing + ": no tensor '" + name + "'");
        return t;
    }

    /**
     * Reads tensor {@code name} into {@code dst[dstOff ..]} as float, converting from F32, F16 or BF16. The stored
     * shape must equal {@code expectedShape}. With {@code transpose} the tensor must be 2-D {@code [r, c]} and is
     * written as its transpose {@code [c, r]} (e.g. GPT-2's Conv1D {@code [in, out]} into a Linear {@code [out, in]}).
     * Only this tensor's bytes are touched.
     */
    public void read(String name, long[] expectedShape, float[] dst, int dstOff, boolean transpose) {
        TensorInfo t = check(name, expectedShape);
        FloatType dtype = FloatType.of(t.dtype());
        long n = t.elements();
        Objects.checkFromIndexSize(dstOff, n, dst.length);
        MemorySegment data = segment(t).asSlice(t.dataBegin(), t.bytes());
        if (!transpose) {
            dtype.decode(data, 0, dst, dstOff, (int) n);
        } else {
            if (expectedShape.length != 2)
                throw fail(t, "cannot transpose a tensor of shape " + Arrays.toString(expectedShape));
            transposeInto(data, dtype, (int) expectedShape[0], (int) expectedShape[1], dst, dstOff);
        }
        bytesRead.addAndGet(t.bytes());
    }

    /**
     * Checks, from the header alone, that tensor {@code name} exists with shape {@code expectedShape} in a dtype
     * that reads as float: a loader checks every tensor this way before it allocates anything large.
     */
    public TensorInfo check(String name, long[] expectedShape) {
        TensorInfo t = info(name);
        if (!Arrays.equals(t.shape(), expectedShape)) {
            throw fail(
                    t,
                    "stored shape " + Arrays.toString(t.shape()) + " but expected " + Arrays.toString(expectedShape));
        }
        if (FloatType.of(t.dtype()) == null)
            throw fail(t, "dtype " + t.dtype() + " cannot be read as float (only F32, F16, BF16)");
        return t;
    }

    /**
     * A SHA-256 (hex) over every tensor's name, dtype and shape and a sample of its bytes, in name order: 16 windows
     * of 4 KiB spread evenly from its first byte to its last (all of a tensor under 64 KiB). A sample, because
     * hashing every byte of GPT2-XL's 6 GB would read pages pruning never touches, at every grid start; the sample
     * reads under 40 MB of it. Enough, because what puts a different model in a folder of the same name (another
     * training run, another fine-tune, another dtype) changes nearly every element of every trained tensor, and so
     * every window; only an edit confined to the bytes between windows would pass, and no training makes one. The
     * layout (safetensors or .bin, shards) is not hashed: one model converted between formats keeps its fingerprint.
     */
    public String fingerprint() {
        MessageDigest sha = sha256();
        for (TensorInfo t : tensors.values()) {
            sha.update(
                    (t.name() + " " + t.dtype() + Arrays.toString(t.shape()) + "\n").getBytes(StandardCharsets.UTF_8));
            MemorySegment data = segment(t).asSlice(t.dataBegin(), t.bytes());
            long n = t.bytes();
            if (n <= (long) SAMPLE_WINDOW * SAMPLE_WINDOWS) {
                sha.update(data.asByteBuffer());
            } else {
                for (int i = 0; i < SAMPLE_WINDOWS; i++) {
                    long at = (n - SAMPLE_WINDOW) * i / (SAMPLE_WINDOWS - 1);
                    sha.update(data.asSlice(at, SAMPLE_WINDOW).asByteBuffer());
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** A fresh SHA-256, which every JDK has. */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** Total bytes of tensor data read so far. */
    public long bytesRead() {
        return bytesRead.get();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        mapped.clear();
        arena.close();
    }

    /** Converts blocks of rows of the stored [r, c] tensor and scatters each block into the [c, r] output. */
    private static void transposeInto(MemorySegment data, FloatType dtype, int r, int c, float[] dst, int dstOff) {
        float[] rows = new float[Math.min(r, TRANSPOSE_ROWS) * c];
        for (int i0 = 0; i0 < r; i0 += TRANSPOSE_ROWS) {
            int b = Math.min(TRANSPOSE_ROWS, r - i0);
            dtype.decode(data, (long) i0 * c, rows, 0, b * c);
            for (int j = 0; j < c; j++) {
                int out = dstOff + j * r + i0;
                for (int i = 0; i < b; i++) dst[out + i] = rows[i * c + j];
            }
        }
    }

    private synchronized MemorySegment segment(TensorInfo t) {
        if (closed) throw new IllegalStateException("checkpoint " + dir + " is closed");
        MemorySegment segment = mapped.computeIfAbsent(t.file(), file -> {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (IOException e) {
                throw new SlimException(file + ": cannot map: " + e.getMessage(), e);
            }
        });
        if (segment.byteSize() < t.dataEnd()) throw fail(t, "file is shorter than when its header was read");
        return segment;
    }

    /** Bytes per element of the dtypes safetensors defines, or -1 for a name it does not. */
    static int dtypeBytes(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> -1;
        };
    }

    private static Map<String, TensorInfo> readIndex(Path dir, Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(index));
        } catch (JsonProcessingException e) {
            throw new SlimException(index + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new SlimException(index + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) throw new SlimException(index + ": no \"weight_map\" object");
        Map<String, Map<String, TensorInfo>> shards = new HashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            String name = e.getKey();
            if (!e.getValue().isTextual())
                throw new SlimException(index + ": tensor '" + name + "': shard is not a file name");
            String shardName = e.getValue().asText();
            Map<String, TensorInfo> shard = shards.computeIfAbsent(shardName, s -> {
                Path file = dir.resolve(s);
                if (!Files.isRegularFile(file)) {
                    throw new SlimException(
                            index + ": tensor '" + name + "' is in shard " + s + ", which is missing from " + dir);
                }
                return readFile(file);
            });
            TensorInfo t = shard.get(name);
            if (t == null) {
                throw new SlimException(dir.resolve(shardName) + ": no tensor '" + name + "', though "
                        + index.getFileName() + " puts it here");
            }
            tensors.put(name, t);
        }
        return tensors;
    }

    /**
     * Parses and checks one file's header as the format's reference implementation does: the length prefix
     * within the file, the header well-formed UTF-8 JSON with no name twice, every dtype known and its shape
     * filling exactly its byte range, and the ranges, sorted, tiling the data section from its first byte to
     * the file's last without a gap or an overlap. A file that passes cannot hand one tensor another's bytes.
     * Offsets become absolute file positions.
     */
    static Map<String, TensorInfo> readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8)
                throw new SlimException(
                        file + ": " + size + " bytes, too short for a safetensors file (8-byte header length)");
            long headerBytes =
                    readFully(ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            if (headerBytes < 0 || headerBytes > MAX_HEADER_BYTES) {
                throw new SlimException(file + ": header length " + Long.toUnsignedString(headerBytes)
                        + " is absurd (limit 100 MB); not a safetensors file?");
            }
            if (headerBytes > size - 8)
                throw new SlimException(file + ": header length " + headerBytes + " exceeds the file size " + size);
            JsonNode root = parseHeader(file, readFully(ch, 8, (int) headerBytes));
            long dataStart = 8 + headerBytes;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : root.properties()) {
                if (e.getKey().equals("__metadata__")) {
                    if (!e.getValue().isObject())
                        throw new SlimException(file + ": \"__metadata__\" is not a JSON object");
                    continue;
                }
                tensors.put(e.getKey(), entry(file, e.getKey(), e.getValue(), dataStart, size - dataStart));
            }
            checkTiling(file, tensors.values(), dataStart, size);
            return tensors;
        } catch (IOException e) {
            throw new SlimException(file + ": cannot read: " + e, e);
        }
    }

    /** The header as a JSON object; strict UTF-8 (Jackson alone would guess UTF-16 or -32 from the bytes). */
    private static JsonNode parseHeader(Path file, ByteBuffer bytes) {
        if (bytes.limit() == 0 || bytes.get(0) != '{')
            throw new SlimException(file + ": header does not start with '{'; not a safetensors file?");
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SlimException(file + ": header is not valid UTF-8 (" + e.getMessage() + ")", e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new SlimException(file + ": header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw new SlimException(file + ": header is not a JSON object");
        return root;
    }

    /**
     * The byte ranges sorted by where they begin must tile the data section: the first at its start, each where
     * the previous ends, the last at the end of the file. Anything else (an overlap, an alias, a gap, a shift
     * by a header length off by one, trailing bytes) means some tensor would read bytes that are not its own.
     */
    private static void checkTiling(Path file, Collection<TensorInfo> tensors, long dataStart, long size) {
        List<TensorInfo> sorted = tensors.stream()
                .sorted(Comparator.comparingLong(TensorInfo::dataBegin).thenComparingLong(TensorInfo::dataEnd))
                .toList();
        long expected = dataStart;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.dataBegin() != expected) {
                String problem = t.dataBegin() < expected
                        ? "overlaps the bytes of tensor '" + previous.name() + "'"
                        : "leaves " + (t.dataBegin() - expected) + " bytes unaccounted for before it";
                throw new SlimException(file + ": tensor '" + t.name() + "': data_offsets ["
                        + (t.dataBegin() - dataStart) + ", " + (t.dataEnd() - dataStart) + "] " + problem
                        + " (the tensors' bytes must follow each other without gaps)");
            }
            expected = t.dataEnd();
            previous = t;
        }
        if (expected != size) {
            throw new SlimException(file + ": the tensors' data_offsets end at byte " + (expected - dataStart)
                    + " of the data but it holds " + (size - dataStart)
                    + " (the header length or the offsets are wrong, or the file has extra bytes)");
        }
    }

    private static TensorInfo entry(Path file, String name, JsonNode e, long dataStart, long dataBytes) {
        String where = file + ": tensor '" + name + "': ";
        if (!e.isObject()) throw new SlimException(where + "entry is not a JSON object");
        JsonNode dtypeNode = e.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw new SlimException(where + "no \"dtype\" string");
        String dtype = dtypeNode.asText();
        int width = dtypeBytes(dtype);
        if (width < 0) throw new SlimException(where + "unknown dtype '" + dtype + "'");
        long[] shape = longs(e.get("shape"), -1);
        if (shape == null) throw new SlimException(where + "\"shape\" is not a list of non-negative integers");
        long[] offsets = longs(e.get("data_offsets"), 2);
        if (offsets == null) throw new SlimException(where + "\"data_offsets\" is not two non-negative integers");
        long begin = offsets[0], end = offsets[1];
        if (end < begin)
            throw new SlimException(where + "data_offsets [" + begin + ", " + end + "] end before they begin");
        if (end > dataBytes) {
            throw new SlimException(where + "data_offsets [" + begin + ", " + end + "] run past the " + dataBytes
                    + " data bytes of the file");
        }
        long need;
        try {
            need = width;
            for (long d : shape) need = Math.multiplyExact(need, d);
        } catch (ArithmeticException overflow) {
            throw new SlimException(where + "shape " + Arrays.toString(shape) + " is too large");
        }
        if (end - begin != need) {
            throw new SlimException(where + "data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but " + dtype + Arrays.toString(shape) + " needs " + need);
        }
        return new TensorInfo(name, dtype, shape, file, dataStart + begin, dataStart + end);
    }

    /** A JSON list of non-negative integers (of length {@code length} unless it is -1), or null if it is not one. */
    private static long[] longs(JsonNode node, int length) {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) return null;
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) return null;
            values[i] = v.asLong();
        }
        return values;
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(bytes);
        while (buffer.hasRemaining()) {
            if (ch.read(buffer, position + buffer.position()) < 0) throw new IOException("unexpected end of file");
        }
        return buffer.flip();
    }

    private static SlimException fail(TensorInfo t, String problem) {
        return new SlimException(t.file() + ": tensor '" + t.name() + "': " + problem);
    }
}
