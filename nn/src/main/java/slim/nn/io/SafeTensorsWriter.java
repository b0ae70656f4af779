package slim.nn.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Writes float tensors (F32, F16 or BF16, each in its own) as one safetensors file: an 8-byte little-endian header
 * length, a JSON header padded with spaces to a multiple of 8 (so the data starts 8-byte aligned), then the raw
 * little-endian values in the order the tensors were added. The file is written under a temporary name in the
 * same folder and renamed atomically, so an existing checkpoint is replaced whole or not at all.
 *
 * <p>{@link #add} keeps a reference to the caller's array (a checkpoint can be as large as the model); the values
 * are copied when {@link #write} runs.
 */
public final class SafeTensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BUFFER_BYTES = 1 << 20;

    private record Tensor(
            String name, FloatType type, long[] shape, float[] src, int srcOff, int elements, boolean transpose) {}

    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** Adds an F32 tensor: {@link #add(String, FloatType, long[], float[], int, boolean)}. */
    public SafeTensorsWriter add(String name, long[] shape, float[] src, int srcOff, boolean transpose) {
        return add(name, FloatType.F32, shape, src, srcOff, transpose);
    }

    /**
     * Adds tensor {@code name} of {@code shape} from {@code src[srcOff ..]}, stored as {@code type}. With
     * {@code transpose}, {@code shape} must be 2-D {@code [r, c]} and {@code src} holds the transpose {@code [c, r]}:
     * the file gets {@code [r, c]}.
     */
    public SafeTensorsWriter add(
            String name, FloatType type, long[] shape, float[] src, int srcOff, boolean transpose) {
        if (name.equals("__metadata__") || !names.add(name))
            throw new IllegalArgumentException("tensor name '" + name + "' is taken");
        long n = 1;
        for (long d : shape) {
            if (d < 0)
                throw new IllegalArgumentException(
                        "tensor '" + name + "': negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        Objects.checkFromIndexSize(srcOff, n, src.length);
        if (transpose && shape.length != 2) {
            throw new IllegalArgumentException(
                    "tensor '" + name + "': cannot transpose shape " + Arrays.toString(shape));
        }
        tensors.add(new Tensor(name, type, shape.clone(), src, srcOff, (int) n, transpose));
        return this;
    }

    /** Writes all tensors added so far to {@code file}, replacing it atomically. */
    public void write(Path file) {
        AtomicFile.write(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(ch, header());
                ValueSink out = new ValueSink(ch);
                for (Tensor t : tensors) {
                    if (t.transpose) putTransposed(t, out);
                    else out.put(t.type, t.src, t.srcOff, t.elements);
                }
                out.flush();
                ch.force(true);
            }
        });
    }

    /** The length prefix and the space-padded JSON header. */
    private ByteBuffer header() throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode entry = header.putObject(t.name);
            entry.put("dtype", t.type.name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape) shape.add(d);
            long bytes = (long) t.type.bytes * t.elements;
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) & ~7;
        ByteBuffer buffer = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(padded).put(json);
        while (buffer.hasRemaining()) buffer.put((byte) ' ');
        return buffer.flip();
    }

    /** src holds [c, r]; the file gets [r, c], row by row. */
    private static void putTransposed(Tensor t, ValueSink out) throws IOException {
        int r = (int) t.shape[0], c = (int) t.shape[1];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) out.put(t.type, t.src[t.srcOff + j * r + i]);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) ch.write(buffer);
    }

    /** Little-endian values gathered in one direct buffer and written a megabyte at a time. */
    private static final class ValueSink {
        private final FileChannel ch;
        private final ByteBuffer bytes = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);

        ValueSink(FileChannel ch) {
            this.ch = ch;
        }

        void put(FloatType type, float[] src, int off, int len) throws IOException {
            if (type != FloatType.F32) {
                for (int i = 0; i < len; i++) put(type, src[off + i]);
                return;
            }
            while (len > 0) {
                if (bytes.remaining() < Float.BYTES) flush();
                // F32 goes in bulk through a little-endian float view that starts where the bytes stand.
                int k = Math.min(len, bytes.remaining() / Float.BYTES);
                bytes.asFloatBuffer().put(src, off, k);
                bytes.position(bytes.position() + k * Float.BYTES);
                off += k;
                len -= k;
            }
        }

        void put(FloatType type, float v) throws IOException {
            if (bytes.remaining() < type.bytes) flush();
            type.encode(v, bytes);
        }

        void flush() throws IOException {
            bytes.flip();
            writeFully(ch, bytes);
            bytes.clear();
        }
    }
}
