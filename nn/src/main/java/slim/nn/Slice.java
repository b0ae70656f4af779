package slim.nn;

import java.util.Arrays;

/**
 * A contiguous run of floats inside a larger buffer: a parameter inside the one parameter block, or
 * an activation inside its buffer. Kernels take slices so that a backend can map each underlying
 * array to a device buffer once and pass offsets thereafter.
 */
public record Slice(float[] data, int offset, int length) {

    public Slice {
        if (offset < 0 || length < 0 || (long) offset + length > data.length) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", +" + length + ") of " + data.length);
        }
    }

    public static Slice of(float[] data) {
        return new Slice(data, 0, data.length);
    }

    public static Slice allocate(int length) {
        return new Slice(new float[length], 0, length);
    }

    public Slice sub(int from, int len) {
        return new Slice(data, offset + from, len);
    }

    public float get(int i) {
        return data[offset + i];
    }

    public void set(int i, float v) {
        data[offset + i] = v;
    }

    public void fill(float v) {
        Arrays.fill(data, offset, offset + length, v);
    }

    public void fill(float v, int count) {
        Arrays.fill(data, offset, offset + count, v);
    }

    public float[] toArray() {
        return Arrays.copyOfRange(data, offset, offset + length);
    }
}
