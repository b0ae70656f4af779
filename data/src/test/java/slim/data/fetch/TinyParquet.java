package slim.data.fetch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import org.xerial.snappy.Snappy;

/**
 * Writes the smallest parquet file the fetch tests need: one row group, required columns "text"
 * (UTF-8 byte array) and a label column (int64, as the hub stores class labels), PLAIN pages
 * compressed with Snappy like the hub's files. Thrift compact protocol by hand: a test fixture, not
 * a writer for anything else.
 */
final class TinyParquet {
    private TinyParquet() {}

    record Row(String text, long label) {}

    static byte[] write(String textColumn, String labelColumn, List<Row> rows) throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes("PAR1".getBytes(StandardCharsets.US_ASCII));

        ByteArrayOutputStream texts = new ByteArrayOutputStream(), labels = new ByteArrayOutputStream();
        for (Row r : rows) {
            byte[] b = r.text.getBytes(StandardCharsets.UTF_8);
            le(texts, b.length, 4);
            texts.writeBytes(b);
            le(labels, r.label, 8);
        }
        long[] textChunk = chunk(file, texts.toByteArray(), rows.size());
        long[] labelChunk = chunk(file, labels.toByteArray(), rows.size());

        Thrift meta = new Thrift();
        meta.i32(1, 1); // version
        meta.listBegin(2, 12, 3); // schema
        meta.structBegin().string(4, "schema").i32(5, 2).structEnd();
        meta.structBegin()
                .i32(1, 6)
                .i32(3, 0)
                .string(4, textColumn)
                .i32(6, 0)
                .structEnd(); // BYTE_ARRAY, REQUIRED, UTF8
        meta.structBegin().i32(1, 2).i32(3, 0).string(4, labelColumn).structEnd(); // INT64, REQUIRED
        meta.i64(3, rows.size());
        meta.listBegin(4, 12, 1); // row_groups
        meta.structBegin();
        meta.listBegin(1, 12, 2);
        column(meta, 6, textColumn, rows.size(), textChunk);
        column(meta, 2, labelColumn, rows.size(), labelChunk);
        meta.i64(2, textChunk[2] + labelChunk[2]).i64(3, rows.size());
        meta.structEnd();
        meta.stop();
        byte[] footer = meta.out.toByteArray();
        file.writeBytes(footer);
        le(file, footer.length, 4);
        file.writeBytes("PAR1".getBytes(StandardCharsets.US_ASCII));
        return file.toByteArray();
    }

    /** Writes one data page; returns {offset, uncompressed size, compressed size} of the chunk. */
    private static long[] chunk(ByteArrayOutputStream file, byte[] values, int count) throws IOException {
        long offset = file.size();
        byte[] compressed = Snappy.compress(values);
        Thrift header = new Thrift();
        header.i32(1, 0).i32(2, values.length).i32(3, compressed.length); // DATA_PAGE
        header.fieldStruct(5).i32(1, count).i32(2, 0).i32(3, 3).i32(4, 3).structEnd(); // PLAIN, RLE levels
        header.stop();
        byte[] h = header.out.toByteArray();
        file.writeBytes(h);
        file.writeBytes(compressed);
        return new long[] {offset, h.length + values.length, h.length + compressed.length};
    }

    private static void column(Thrift t, int type, String name, int count, long[] chunk) {
        t.structBegin().i64(2, chunk[0]);
        t.fieldStruct(3).i32(1, type);
        t.listBegin(2, 5, 1).varint(zigzag(0)); // encodings: PLAIN
        t.listBegin(3, 8, 1).bytes(name.getBytes(StandardCharsets.UTF_8)); // path_in_schema
        t.i32(4, 1).i64(5, count).i64(6, chunk[1]).i64(7, chunk[2]).i64(9, chunk[0]); // SNAPPY
        t.structEnd();
        t.structEnd();
    }

    private static void le(ByteArrayOutputStream out, long v, int bytes) {
        for (int i = 0; i < bytes; i++) out.write((int) (v >>> (8 * i)) & 0xFF);
    }

    private static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    /** Thrift compact protocol, only what the fixture needs. */
    private static final class Thrift {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ArrayDeque<Integer> lastIds = new ArrayDeque<>(List.of(0));

        private Thrift field(int id, int type) {
            int delta = id - lastIds.peek();
            if (delta > 0 && delta <= 15) out.write((delta << 4) | type);
            else {
                out.write(type);
                varint(zigzag(id));
            }
            lastIds.pop();
            lastIds.push(id);
            return this;
        }

        Thrift varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
            return this;
        }

        Thrift bytes(byte[] b) {
            varint(b.length);
            out.writeBytes(b);
            return this;
        }

        Thrift i32(int id, int v) {
            return field(id, 5).varint(zigzag(v));
        }

        Thrift i64(int id, long v) {
            return field(id, 6).varint(zigzag(v));
        }

        Thrift string(int id, String s) {
            return field(id, 8).bytes(s.getBytes(StandardCharsets.UTF_8));
        }

        Thrift listBegin(int id, int elementType, int size) {
            field(id, 9);
            out.write((size << 4) | elementType); // sizes below 15 only
            return this;
        }

        /** A struct as a list element. */
        Thrift structBegin() {
            lastIds.push(0);
            return this;
        }

        /** A struct as a field. */
        Thrift fieldStruct(int id) {
            field(id, 12);
            return structBegin();
        }

        Thrift structEnd() {
            out.write(0);
            lastIds.pop();
            return this;
        }

        void stop() {
            out.write(0);
        }
    }
}
