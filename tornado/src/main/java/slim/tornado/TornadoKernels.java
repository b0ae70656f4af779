package slim.tornado;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import slim.nn.SlimException;
import slim.nn.Slice;
import slim.nn.kernels.Activation;
import slim.nn.kernels.Kernels;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * The kernels on a TornadoVM device. Calls are not run one by one: they are recorded until the host
 * needs a result (the loss, logits, {@link #read}), and the recorded segment then runs as one task
 * graph. Every model buffer (a float[]: the parameter block, the gradients, each activation) is
 * copied to the device once and stays there; only what the host reads comes back.
 *
 * <p>A step always records the same segments (say: backward + AdamW + forward up to the head; then
 * the loss), whatever the sequence length, because sizes, offsets and index lists travel as data.
 * All segments seen so far live in one {@link DeviceGraph}, so they share the device buffers; a new
 * kind of segment (first training step, first evaluation) rebuilds it once.
 */
public final class TornadoKernels implements Kernels {
    static {
        // TornadoVM sizes the bytecode of a task graph by a property read once (4 KiB by default, about 100
        // tasks); a model step has tens of tasks per layer. Set it before the runtime's first graph.
        if (System.getProperty("tornado.tvm.maxbytecodesize") == null) {
            System.setProperty("tornado.tvm.maxbytecodesize", Integer.toString(1 << 22));
        }
    }

    /** Most rows one cross-entropy call may have (the head rows of one pass). */
    private static final int MAX_LOSS_ROWS = 4096;

    private final TornadoDevice device;
    private final float[] none = new float[1];
    private final float[] lossRows = new float[MAX_LOSS_ROWS];
    private final List<Call> pending = new ArrayList<>();
    private final Map<List<Integer>, Segment> segments = new HashMap<>();
    private final Map<float[], Integer> bufferIds = new IdentityHashMap<>();
    private DeviceGraph graph;
    private int graphsBuilt;

    /** The default TornadoVM device, or the one -Dslim.tornado.device=BACKEND:DEVICE names. */
    public TornadoKernels() {
        this(deviceFromProperty());
    }

    public TornadoKernels(TornadoDevice device) {
        this.device = device;
        bufferIds.put(none, 0);
        bufferIds.put(lossRows, 1);
    }

    private static TornadoDevice deviceFromProperty() {
        String spec = System.getProperty("slim.tornado.device", "0:0");
        String[] parts = spec.split(":");
        try {
            return TornadoExecutionPlan.getDevice(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw new SlimException("-Dslim.tornado.device=" + spec + ": expected BACKEND:DEVICE, e.g. 0:0");
        }
    }

    /** Where the kernels run, e.g. "OpenCL: pthread-skylake-avx512-AMD EPYC (CPU)". */
    public String deviceDescription() {
        return device.getTornadoVMBackend() + ": " + device.getPhysicalDevice().getDeviceName() + " ("
                + device.getDeviceType() + ")";
    }

    @Override
    public String name() {
        return "tornado (" + deviceDescription() + ")";
    }

    /** How many times the device graph was (re)built: once per new kind of segment, then never. */
    public int graphsBuilt() {
        return graphsBuilt;
    }

    // ------------------------------------------------------------------ host synchronisation

    @Override
    public void read(Slice s) {
        flush();
        if (graph != null && graph.holds(s.data())) graph.toHost(s.data());
    }

    @Override
    public void write(Slice s) {
        if (graph == null || !graph.holds(s.data())) return;   // first sent when a graph first uses it
        flush();
        // The device holds the rest of this buffer (and of every other) newer than the host: bring all
        // back, keep the host's new values of s, and let the next graph send everything again.
        float[] written = s.toArray();
        graph.allToHost();
        System.arraycopy(written, 0, s.data(), s.offset(), written.length);
        graph.close();
        graph = null;
    }

    /** Runs what was recorded: the segment's task graph, built (with all earlier segments) when new. */
    private void flush() {
        if (pending.isEmpty()) return;
        List<Integer> key = new ArrayList<>();
        for (Call c : pending) c.appendKey(key, bufferIds);
        Segment segment = segments.get(key);
        if (segment == null || !segment.fits(pending)) {
            segment = new Segment(pending, segment);
            segments.put(key, segment);
            rebuild();
        } else if (graph == null) {
            rebuild();
        }
        graph.run(segment, pending);
        pending.clear();
    }

    private void rebuild() {
        if (graph != null) {
            graph.allToHost();
            graph.close();
        }
        graph = new DeviceGraph("slim" + graphsBuilt++, device, List.copyOf(segments.values()));
    }

    // ------------------------------------------------------------------ recording

    private void record(Op op, long work, int local, float[][] buffers, int[] ints, float... floats) {
        if (work > Integer.MAX_VALUE) throw new SlimException("a " + op + " call of " + work + " work-items is too large for one kernel");
        float[][] six = new float[6][];
        for (int i = 0; i < 6; i++) {
            float[] b = i < buffers.length && buffers[i] != null ? buffers[i] : none;
            bufferIds.putIfAbsent(b, bufferIds.size());
            six[i] = b;
        }
        pending.add(new Call(op, six, ints, floats, (int) work, local));
    }

    private static float[][] bufs(Slice... slices) {
        float[][] out = new float[slices.length][];
        for (int i = 0; i < slices.length; i++) out[i] = slices[i] == null ? null : slices[i].data();
        return out;
    }

    private static int off(Slice s) {
        return s == null ? 0 : s.offset();
    }

    /** The on-flag, then the values, then the first n entries of each list. */
    private static int[] ints(int[] values, int[]... lists) {
        int n = 1 + values.length;
        for (int[] l : lists) n += l.length;
        int[] out = new int[n];
        out[0] = 1;
        System.arraycopy(values, 0, out, 1, values.length);
        int at = 1 + values.length;
        for (int[] l : lists) {
            System.arraycopy(l, 0, out, at, l.length);
            at += l.length;
        }
        return out;
    }

    private static int[] v(int... values) {
        return values;
    }

    private static final int LOCAL = 64;

    @Override
    public void embeddingForward(Slice out, Slice table, int[] ids, int T, int C, boolean accumulate) {
        int rows = table.length() / C;
        for (int t = 0; t < T; t++) {
            if (ids[t] < 0 || ids[t] >= rows) {
                throw new IllegalArgumentException("token id " + ids[t] + " at position " + t + " is outside the embedding table of " + rows + " rows");
            }
        }
        record(Op.EMBEDDING_FORWARD, (long) T * C, LOCAL, bufs(out, table),
                ints(v(T, C, out.offset(), table.offset(), accumulate ? 1 : 0), Arrays.copyOf(ids, T)));
    }

    @Override
    public void embeddingBackward(Slice dtable, Slice dout, int[] ids, int T, int C) {
        record(Op.EMBEDDING_BACKWARD, C, LOCAL, bufs(dtable, dout), ints(v(T, C, dtable.offset(), dout.offset()), Arrays.copyOf(ids, T)));
    }

    @Override
    public void layerNormForward(Slice out, Slice mean, Slice rstd, Slice inp, Slice w, Slice b, int T, int C, float eps) {
        record(Op.LAYER_NORM_FORWARD, T, LOCAL, bufs(out, mean, rstd, inp, w, b),
                ints(v(T, C, out.offset(), mean.offset(), rstd.offset(), inp.offset(), w.offset(), b.offset())), eps);
    }

    @Override
    public void layerNormBackward(Slice dinp, Slice dw, Slice db, Slice dout, Slice inp, Slice w, Slice mean,
                                  Slice rstd, int T, int C) {
        record(Op.LAYER_NORM_BACKWARD_INPUT, T, LOCAL, bufs(dinp, dout, inp, w, mean, rstd),
                ints(v(T, C, dinp.offset(), dout.offset(), inp.offset(), w.offset(), mean.offset(), rstd.offset())));
        record(Op.LAYER_NORM_BACKWARD_WEIGHTS, C, LOCAL, bufs(dw, db, dout, inp, mean, rstd),
                ints(v(T, C, dw.offset(), db.offset(), dout.offset(), inp.offset(), mean.offset(), rstd.offset())));
    }

    @Override
    public void rmsNormForward(Slice out, Slice rstd, Slice inp, Slice w, int T, int C, float eps) {
        record(Op.RMS_NORM_FORWARD, T, LOCAL, bufs(out, rstd, inp, w),
                ints(v(T, C, out.offset(), rstd.offset(), inp.offset(), w.offset())), eps);
    }

    @Override
    public void rmsNormBackward(Slice dinp, Slice dw, Slice dout, Slice inp, Slice w, Slice rstd, int T, int C) {
        record(Op.RMS_NORM_BACKWARD_INPUT, T, LOCAL, bufs(dinp, dout, inp, w, rstd),
                ints(v(T, C, dinp.offset(), dout.offset(), inp.offset(), w.offset(), rstd.offset())));
        record(Op.RMS_NORM_BACKWARD_WEIGHTS, C, LOCAL, bufs(dw, dout, inp, rstd),
                ints(v(T, C, dw.offset(), dout.offset(), inp.offset(), rstd.offset())));
    }

    @Override
    public void matmulForward(Slice out, Slice inp, Slice w, Slice bias, int T, int C, int OC) {
        int tile = DeviceKernels.TILE, tilesT = (T + tile - 1) / tile, tilesOC = (OC + tile - 1) / tile;
        record(Op.MATMUL_FORWARD, (long) tilesT * tilesOC * tile * tile, tile * tile, bufs(out, inp, w, bias),
                ints(v(T, C, OC, out.offset(), inp.offset(), w.offset(), off(bias), bias != null ? 1 : 0, tilesOC)));
    }

    @Override
    public void matmulBackward(Slice dinp, Slice dw, Slice dbias, Slice dout, Slice inp, Slice w, int T, int C, int OC) {
        if (dinp != null) {
            record(Op.MATMUL_BACKWARD_INPUT, (long) T * C, LOCAL, bufs(dinp, dout, w),
                    ints(v(T, C, OC, dinp.offset(), dout.offset(), w.offset())));
        }
        record(Op.MATMUL_BACKWARD_WEIGHTS, (long) OC * C, LOCAL, bufs(dw, dout, inp),
                ints(v(T, C, OC, dw.offset(), dout.offset(), inp.offset())));
        if (dbias != null) {
            record(Op.MATMUL_BACKWARD_BIAS, OC, LOCAL, bufs(dbias, dout), ints(v(T, OC, dbias.offset(), dout.offset())));
        }
    }

    @Override
    public void attentionForward(Slice out, Slice att, Slice qkv, Slice dropMask, int T, int H, int KV, int D,
                                 boolean causal) {
        record(Op.ATTENTION_FORWARD, (long) H * T, LOCAL, bufs(out, att, qkv, dropMask),
                ints(v(T, H, KV, D, causal ? 1 : 0, dropMask != null ? 1 : 0, out.offset(), att.offset(), qkv.offset(),
                        off(dropMask))));
    }

    @Override
    public void attentionBackward(Slice dqkv, Slice datt, Slice dout, Slice qkv, Slice att, Slice dropMask, int T,
                                  int H, int KV, int D, boolean causal) {
        int masked = dropMask != null ? 1 : 0;
        record(Op.ATTENTION_BACKWARD_SCORES, (long) H * T, LOCAL, bufs(datt, dout, qkv, att, dropMask),
                ints(v(T, H, KV, D, causal ? 1 : 0, masked, datt.offset(), dout.offset(), qkv.offset(), att.offset(),
                        off(dropMask))));
        record(Op.ATTENTION_BACKWARD_QUERY, (long) T * H * D, LOCAL, bufs(dqkv, datt, qkv),
                ints(v(T, H, KV, D, dqkv.offset(), datt.offset(), qkv.offset())));
        record(Op.ATTENTION_BACKWARD_KEY_VALUE, (long) T * KV * D, LOCAL, bufs(dqkv, datt, dout, qkv, att, dropMask),
                ints(v(T, H, KV, D, masked, dqkv.offset(), datt.offset(), dout.offset(), qkv.offset(), att.offset(),
                        off(dropMask))));
    }

    @Override
    public void ropeForward(Slice qkv, Slice cos, Slice sin, int T, int H, int KV, int D) {
        rope(qkv, cos, sin, T, H, KV, D, 1f);
    }

    @Override
    public void ropeBackward(Slice dqkv, Slice cos, Slice sin, int T, int H, int KV, int D) {
        rope(dqkv, cos, sin, T, H, KV, D, -1f);
    }

    private void rope(Slice qkv, Slice cos, Slice sin, int T, int H, int KV, int D, float direction) {
        record(Op.ROPE, (long) T * (H + KV) * (D / 2), LOCAL, bufs(qkv, cos, sin),
                ints(v(T, H, KV, D, qkv.offset(), cos.offset(), sin.offset())), direction);
    }

    @Override
    public void activationForward(Activation act, Slice out, Slice inp, int N) {
        record(Op.ACTIVATION_FORWARD, N, LOCAL, bufs(out, inp), ints(v(N, act.ordinal(), out.offset(), inp.offset())));
    }

    @Override
    public void activationBackward(Activation act, Slice dinp, Slice inp, Slice dout, int N) {
        record(Op.ACTIVATION_BACKWARD, N, LOCAL, bufs(dinp, inp, dout),
                ints(v(N, act.ordinal(), dinp.offset(), inp.offset(), dout.offset())));
    }

    @Override
    public void swigluForward(Slice out, Slice gateUp, int T, int I) {
        record(Op.SWIGLU_FORWARD, (long) T * I, LOCAL, bufs(out, gateUp), ints(v(T, I, out.offset(), gateUp.offset())));
    }

    @Override
    public void swigluBackward(Slice dgateUp, Slice gateUp, Slice dout, int T, int I) {
        record(Op.SWIGLU_BACKWARD, (long) T * I, LOCAL, bufs(dgateUp, gateUp, dout),
                ints(v(T, I, dgateUp.offset(), gateUp.offset(), dout.offset())));
    }

    @Override
    public void add(Slice out, Slice a, Slice b, int N) {
        record(Op.ADD, N, LOCAL, bufs(out, a, b), ints(v(N, out.offset(), a.offset(), b.offset())));
    }

    @Override
    public void multiply(Slice x, Slice y, int N) {
        record(Op.MULTIPLY, N, LOCAL, bufs(x, y), ints(v(N, x.offset(), y.offset())));
    }

    /** The device draws its own numbers (a hash of seed and index): the same p, not the CPU's sequence. */
    @Override
    public void dropoutMask(Slice mask, int N, float p, long seed) {
        record(Op.DROPOUT_MASK, N, LOCAL, bufs(mask), ints(v(N, mask.offset(), (int) seed, (int) (seed >>> 32))), p);
    }

    @Override
    public void zero(Slice x, int N) {
        record(Op.ZERO, N, LOCAL, bufs(x), ints(v(N, x.offset())));
    }

    @Override
    public void copy(Slice dst, Slice src, int N) {
        record(Op.COPY, N, LOCAL, bufs(dst, src), ints(v(N, dst.offset(), src.offset())));
    }

    @Override
    public void gatherRows(Slice dst, Slice src, int[] rows, int n, int C) {
        record(Op.GATHER_ROWS, (long) n * C, LOCAL, bufs(dst, src), ints(v(n, C, dst.offset(), src.offset()), Arrays.copyOf(rows, n)));
    }

    @Override
    public void scatterAddRows(Slice dst, Slice src, int[] rows, int n, int C) {
        record(Op.SCATTER_ADD_ROWS, C, LOCAL, bufs(dst, src), ints(v(n, C, dst.offset(), src.offset()), Arrays.copyOf(rows, n)));
    }

    @Override
    public void meanRowsForward(Slice out, Slice inp, int T, int C) {
        record(Op.MEAN_ROWS_FORWARD, C, LOCAL, bufs(out, inp), ints(v(T, C, out.offset(), inp.offset())));
    }

    @Override
    public void meanRowsBackward(Slice dinp, Slice dout, int T, int C) {
        record(Op.MEAN_ROWS_BACKWARD, (long) T * C, LOCAL, bufs(dinp, dout), ints(v(T, C, dinp.offset(), dout.offset())));
    }

    @Override
    public float crossEntropyForward(Slice probs, Slice logits, int[] targets, int[] candidates, int n, int V) {
        if (n > MAX_LOSS_ROWS) throw new IllegalArgumentException("cross-entropy over " + n + " rows; at most " + MAX_LOSS_ROWS);
        int[] cand = candidates == null ? new int[0] : candidates;
        record(Op.CROSS_ENTROPY_FORWARD, (long) n * DeviceKernels.CE_GROUP, DeviceKernels.CE_GROUP,
                new float[][] {probs.data(), logits.data(), lossRows},
                ints(v(n, V, probs.offset(), logits.offset(), cand.length), Arrays.copyOf(targets, n), cand));
        read(new Slice(lossRows, 0, n));
        double loss = 0;
        for (int r = 0; r < n; r++) loss += lossRows[r];
        return (float) (loss / n);
    }

    @Override
    public void crossEntropyBackward(Slice dlogits, Slice probs, int[] targets, int[] candidates, int n, int V) {
        record(Op.CROSS_ENTROPY_BACKWARD, (long) n * V, LOCAL, bufs(dlogits, probs),
                ints(v(n, V, dlogits.offset(), probs.offset()), Arrays.copyOf(targets, n)));
    }

    @Override
    public void adamw(Slice params, Slice grads, Slice m, Slice v, int N, float lr, float beta1, float beta2, float eps,
                      float weightDecay, int step) {
        float correction1 = (float) (1 - Math.pow(beta1, step));
        float correction2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        record(Op.ADAMW, N, LOCAL, bufs(params, grads, m, v), ints(v(N, params.offset(), grads.offset(), m.offset(), v.offset())),
                lr, beta1, beta2, eps, 1f - lr * weightDecay, lr / correction1, correction2Sqrt);
    }
}
