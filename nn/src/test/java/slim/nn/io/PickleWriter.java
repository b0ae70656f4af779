package slim.nn.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes pickles opcode by opcode, as Python's pickler would, and wraps them in a torch.save zip: for tests of
 * what the reader accepts and refuses, including pickles no real checkpoint has.
 */
final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleWriter() {
        op(0x80).op(2); // PROTO 2
    }

    PickleWriter op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleWriter global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    PickleWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X').int32(b.length);
        return raw(b);
    }

    PickleWriter integer(int v) {
        return op('J').int32(v);
    }

    PickleWriter mark() {
        return op('(');
    }

    PickleWriter tuple() {
        return op('t');
    }

    PickleWriter reduce() {
        return op('R');
    }

    /** {@code torch._utils._rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())}, 1-D or 2-D. */
    PickleWriter tensor(String storageType, String key, int elements, int offset, int[] shape, int[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().string("storage")
                .global("torch", storageType)
                .string(key)
                .string("cpu")
                .integer(elements)
                .tuple()
                .op('Q');
        integer(offset);
        mark();
        for (int d : shape) integer(d);
        tuple().mark();
        for (int s : stride) integer(s);
        tuple().op(0x89).global("collections", "OrderedDict").op(')').reduce();
        return tuple().reduce();
    }

    byte[] stop() {
        return op('.').out.toByteArray();
    }

    private PickleWriter int32(int v) {
        for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
        return this;
    }

    private PickleWriter raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    /** A torch.save zip: top/data.pkl, top/byteorder and top/data/KEY per storage, all stored uncompressed. */
    static void writeZip(Path file, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        try (OutputStream f = Files.newOutputStream(file);
                ZipOutputStream zip = new ZipOutputStream(f)) {
            stored(zip, "archive/data.pkl", pickle);
            stored(zip, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, byte[]> s : storages.entrySet())
                stored(zip, "archive/data/" + s.getKey(), s.getValue());
        }
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
