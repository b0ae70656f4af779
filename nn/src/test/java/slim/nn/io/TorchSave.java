package slim.nn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes a state dict of F32 tensors as torch.save does (a zip of data.pkl and one storage per tensor), for tests. */
public final class TorchSave {
    /** A contiguous tensor: its shape and its values in row-major order. */
    public record Tensor(int[] shape, float[] values) {}

    private TorchSave() {}

    public static void write(Path file, Map<String, Tensor> stateDict) throws IOException {
        PickleWriter pickle = new PickleWriter().op('}').mark();
        Map<String, byte[]> storages = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : stateDict.entrySet()) {
            Tensor t = e.getValue();
            String key = Integer.toString(storages.size());
            int[] stride = new int[t.shape().length];
            for (int d = stride.length - 1, s = 1; d >= 0; s *= t.shape()[d], d--) stride[d] = s;
            pickle.string(e.getKey()).tensor("FloatStorage", key, t.values().length, 0, t.shape(), stride);
            ByteBuffer b = ByteBuffer.allocate(t.values().length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : t.values()) b.putFloat(v);
            storages.put(key, b.array());
        }
        PickleWriter.writeZip(file, pickle.op('u').stop(), storages);
    }
}
