package slim.tornado;

import java.util.List;
import java.util.Map;

/**
 * One recorded kernel call: which kernel, on which buffers, with which parameters, over how many
 * work-items. Two calls with the same kernel and buffers are the same task; their parameters may differ.
 */
record Call(Op op, float[][] buffers, int[] ints, float[] floats, int work, int local) {

    /** What makes a segment's task graph: the kernel and the identity of each buffer. */
    void appendKey(List<Integer> key, Map<float[], Integer> bufferIds) {
        key.add(op.ordinal());
        for (float[] b : buffers) key.add(bufferIds.get(b));
    }
}
