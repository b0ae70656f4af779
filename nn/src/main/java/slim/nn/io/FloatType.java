package slim.nn.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The safetensors dtypes that hold floats, with the conversions to and from Java floats: a checkpoint is
 * read into float32 whatever it stores, and written back in the dtype it came in.
 */
public enum FloatType {
    F32(4) {
        void decode(MemorySegment src, long first, float[] dst, int off, int count) {
            MemorySegment.copy(src, F32_LE, first * 4, dst, off, count);
        }

        void encode(float v, ByteBuffer out) {
            out.putFloat(v);
        }
    },
    F16(2) {
        void decode(MemorySegment src, long first, float[] dst, int off, int count) {
            for (int i = 0; i < count; i++) dst[off + i] = Float.float16ToFloat(src.get(U16_LE, (first + i) * 2));
        }

        void encode(float v, ByteBuffer out) {
            out.putShort(Float.floatToFloat16(v));
        }
    },
    /** bfloat16 is the high half of a float32; written rounded to nearest even, as torch's .to(bfloat16). */
    BF16(2) {
        void decode(MemorySegment src, long first, float[] dst, int off, int count) {
            for (int i = 0; i < count; i++) dst[off + i] = Float.intBitsToFloat(src.get(U16_LE, (first + i) * 2) << 16);
        }

        void encode(float v, ByteBuffer out) {
            int bits = Float.floatToRawIntBits(v);
            if (Float.isNaN(v)) {
                out.putShort((short) ((bits >>> 16) | 0x40)); // stays a NaN once the low half is gone
            } else {
                out.putShort((short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16));
            }
        }
    };

    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes per element. */
    public final int bytes;

    FloatType(int bytes) {
        this.bytes = bytes;
    }

    /** Converts {@code count} stored elements from element {@code first} of src into dst[off ..]. */
    abstract void decode(MemorySegment src, long first, float[] dst, int off, int count);

    /** Appends v in this type to a little-endian buffer. */
    abstract void encode(float v, ByteBuffer out);

    /** The type a safetensors dtype name stands for, or null when it is not F32, F16 or BF16. */
    public static FloatType of(String dtype) {
        return switch (dtype) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            default -> null;
        };
    }
}
