package slim.nn.io;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a checkpoint file: its dtype as safetensors spells it ("F32", "BF16", "I64", ...; a PyTorch
 * storage's type is named the same way), its shape, the file holding it and its byte range
 * {@code [dataBegin, dataEnd)} counted from the start of the file (not from the end of the header, as a safetensors
 * header's data_offsets are; for a {@code .bin}, inside the zip entry of its storage).
 */
public record TensorInfo(String name, String dtype, long[] shape, Path file, long dataBegin, long dataEnd) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long elements() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public long bytes() {
        return dataEnd - dataBegin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape)
                && file.equals(t.file)
                && dataBegin == t.dataBegin
                && dataEnd == t.dataEnd;
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " in " + file.getFileName() + " [" + dataBegin + ", "
                + dataEnd + ")";
    }
}
