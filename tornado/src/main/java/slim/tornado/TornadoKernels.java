package slim.tornado;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import slim.nn.Slice;
import slim.nn.SlimException;
import slim.nn.kernels.AdamWSettings;
import slim.nn.kernels.AttentionHeads;
import slim.nn.kernels.AttentionShape;
import slim.nn.kernels.Kernels;
import slim.nn.kernels.Nonlinearity;
import slim.tornado.DevicePlan.Bank;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;

/**
 * The kernels on a TornadoVM device. Every model buffer (a float[]: the parameter block, the
 * gradients, the AdamW moments, each activation) gets a place in a device arena the first time a
 * kernel touches it, and from then on lives there: the parameters, the gradients, the first and the
 * second moments each in an arena of their own, the activations and the rest in the first ({@link Bank}:
 * an arena is one Java float[], so five let a model of up to about 2 G parameters train). A kernel
 * call sends only its sizes, offsets and index lists (token ids, targets), and data comes back only
 * where the host reads ({@link #read}: the loss rows, the logits it uses). See {@link DevicePlan} for
 * the graphs.
 *
 * <p>Calls are recorded, not run, until the host needs a result ({@link #read}, {@link #write}):
 * then the recorded list is cut into {@link Segment}s, and each segment the plan has a graph
 * for runs as one graph execution, the others call by call. The first plan is built at the first flush,
 * with a graph for each of its segments (a training step's: from the first step on, a step is a few
 * executions per layer, not one per kernel call); buffers placed before it are sent then. Once a later
 * flush holds only segments seen before but not all built (evaluation's, say, at its second pass), a new
 * plan is built with a graph for each; at most {@link #SEGMENT_PLANS} times, so that ever-new segments
 * cannot rebuild it forever.
 *
 * <p>The arenas' sizes come from {@link #reserve} (the model's layout) and what the first flush placed; after the
 * first plan an arena doubles only when a buffer still does not fit: every buffer is brought back, and a new plan
 * (whose kernels compile again on first use) receives them. Past one float[] it fails, naming the floats needed.
 *
 * <p>TornadoVM compiles a graph's tasks on its first execution, once per plan. {@link #close} keeps the plan (one,
 * per JVM) instead of freeing it, and the next TornadoKernels on that device whose arenas fit in it takes it with
 * its segment graphs: the later cells of a grid skip the compilation (sizes and offsets are data, so any model's
 * segments run on it; a segment it has no graph for is added as in a first instance).
 */
public final class TornadoKernels implements Kernels {

    private static final int MIN_ARENA = 1 << 20;

    /** Floats of an arena that holds nothing yet (the gradients' and moments' of a model that does not train). */
    private static final int MIN_BANK = 64;

    /**
     * Most floats one arena ({@link Bank}) holds: it is one Java float[] (TornadoVM's buffers are Java arrays), so
     * about 2^31, 8 GiB. The activations, the parameters, the gradients and each AdamW moment have one each, so a
     * model of up to about 2 G parameters trains (GPT2-XL at k = 48 has 1.56 G).
     */
    static final long MAX_ARENA = Integer.MAX_VALUE - 16;

    /** An arena's limit here: MAX_ARENA, or less where a test makes it so. */
    private final long arenaLimit;

    static {
        // Read once, when TornadoVM first compiles a graph: a block's segment needs more than the default.
        if (System.getProperty("tornado.tvm.maxbytecodesize") == null) {
            System.setProperty("tornado.tvm.maxbytecodesize", Integer.toString(Segment.BYTECODE_BYTES));
        }
    }

    /** The plan the last closed instance left, with the segments it has graphs for; guarded by the class. */
    private static Kept kept;

    private record Kept(TornadoDevice device, DevicePlan plan, Set<Segment> seen, int segmentPlans) {}

    /** Most plans built to add segment graphs. */
    private static final int SEGMENT_PLANS = 4;

    private final TornadoDevice device;

    /**
     * How the kernels split their work: for a GPU's many narrow lanes (neighbouring work-items on neighbouring
     * floats, tiles through local memory) or a CPU device's few cores (PoCL runs a work-group's items one after
     * another, so a barrier is a stop for all of them, and a work-item's registers are what is fast).
     */
    enum Target {
        GPU,
        CPU
    }

    private final Target target;

    /**
     * Elements one work-item of an elementwise pass over a whole weight (AdamW) updates: 1 on a GPU, so that
     * neighbouring work-items touch neighbouring floats; CPU_RUN on a CPU device (PoCL), where a work-item's
     * parameters, read once, then serve a whole run.
     */
    private final int elementsPerItem;

    private static final int CPU_RUN = 1024;

    /** Weight rows one work-item of matmulBackwardInputParts reads. */
    private static final int ROWS_PER_PART = 512;

    /** Scratch for partial sums (matmulBackwardInputParts), placed in the arena like any buffer. */
    private float[] partsScratch = new float[0];

    /** Where a buffer lives: its arena and its offset there. */
    private record Place(Bank bank, int offset) {}

    private final Map<float[], Place> base = new IdentityHashMap<>();
    /** The ints of zero calls recorded on buffers not yet placed, by buffer (see {@link #zero}). */
    private final Map<float[], List<int[]>> unplacedZeros = new IdentityHashMap<>();

    private DevicePlan plan;
    /** Buffers are placed, but no plan is built yet (nothing has run). */
    private boolean pending;
    /** Before the first plan: its index lists' capacity, as the calls so far need it. */
    private int pendingIndexCapacity = 256;
    /** Floats placed in each arena, by {@link Bank}. */
    private final long[] top = new long[Bank.values().length];
    /** Floats {@link #reserve} announced, all arenas together. */
    private long reserved;

    private int plansBuilt, segmentPlans;
    private final List<Call> recorded = new ArrayList<>();
    /** Every segment of two or more calls that has run (one call runs as fast in its kernel's own graph). */
    private final Set<Segment> seen = new LinkedHashSet<>();

    private long floatsUpBefore, floatsDownBefore, executionsBefore;

    /** The default TornadoVM device, or the one -Dslim.tornado.device=BACKEND:DEVICE names. */
    public TornadoKernels() {
        this(deviceFromProperty());
    }

    public TornadoKernels(TornadoDevice device) {
        this(device, device.getDeviceType() == TornadoDeviceType.CPU ? Target.CPU : Target.GPU);
    }

    /** Kernels for the device, splitting their work as suits target (the tests run both on one device). */
    TornadoKernels(TornadoDevice device, Target target) {
        this(device, target, MAX_ARENA);
    }

    /** As above, with an arena of at most arenaLimit floats (the tests' way to reach the limit). */
    TornadoKernels(TornadoDevice device, Target target, long arenaLimit) {
        this.device = device;
        this.target = target;
        this.elementsPerItem = target == Target.CPU ? CPU_RUN : 1;
        this.arenaLimit = arenaLimit;
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

    /** How many device plans were built: one, plus one per growth of the arena or of the index lists, plus one
     * each time recurring segments got their graphs. */
    public int plansBuilt() {
        return plansBuilt;
    }

    /** Floats sent to the device through the host-write path (first uses and {@link #write}), ever. */
    public long floatsUploaded() {
        return floatsUpBefore + (plan == null ? 0 : plan.floatsUp);
    }

    /** Floats brought back to the host by {@link #read}, ever. */
    public long floatsDownloaded() {
        return floatsDownBefore + (plan == null ? 0 : plan.floatsDown);
    }

    /** Task-graph executions (kernel calls and transfer chunks), ever. */
    public long executions() {
        return executionsBefore + (plan == null ? 0 : plan.executions);
    }

    // ------------------------------------------------------------------ host synchronisation

    @Override
    public void read(Slice s) {
        if (!touched(s)) return;
        flush();
        if (plan == null) return; // nothing has run: the host's floats are the buffer's
        Place b = base.get(s.data());
        plan.download(s.data(), s.offset(), b.bank(), b.offset() + s.offset(), s.length());
    }

    @Override
    public void write(Slice s) {
        if (!touched(s)) return;
        flush();
        if (plan == null) return; // the first plan sends the host's floats as they are then
        Place b = base.get(s.data());
        plan.upload(s.data(), s.offset(), b.bank(), b.offset() + s.offset(), s.length());
    }

    /** Whether a kernel call has named s's buffer (after a flush it is placed); if not, the host's copy is all. */
    private boolean touched(Slice s) {
        return base.containsKey(s.data()) || unplacedZeros.containsKey(s.data());
    }

    /**
     * Fails at once where the announced buffers cannot fit in the arenas together, before any is placed;
     * where one arena overflows while they would, the first buffer that does not fit fails as clearly.
     */
    @Override
    public void reserve(long floats) {
        reserved += floats;
        if (reserved > Bank.values().length * arenaLimit) {
            throw tooLarge(
                    "buffers (parameters, gradients, AdamW moments, activations)",
                    reserved,
                    Bank.values().length + " arenas of " + String.format("%,d", arenaLimit));
        }
    }

    private SlimException tooLarge(String what, long floats, String holds) {
        return new SlimException(String.format(
                "the model's %s need %,d floats (%.1f GiB) on the device, more than TornadoVM holds for them: %s"
                        + " floats (each arena one Java float[]); keep fewer layers (-k) or use --backend cpu",
                what, floats, floats * (double) Float.BYTES / (1L << 30), holds));
    }

    /** Keeps the plan for the next instance (see the class comment), freeing the one kept before. */
    @Override
    public void close() {
        recorded.clear();
        unplacedZeros.clear();
        pending = false;
        if (plan == null) return;
        synchronized (TornadoKernels.class) {
            if (kept != null) kept.plan().close();
            kept = new Kept(device, plan, Set.copyOf(seen), segmentPlans);
        }
        plan = null;
    }

    /** Frees the plan a closed instance kept, so that the next instance starts as the first in a JVM does. */
    static synchronized void releaseKeptPlan() {
        if (kept != null) kept.plan().close();
        kept = null;
    }

    /**
     * The first plan: the one a closed instance kept, where its arenas together hold what is reserved (one that
     * still falls short grows as a buffer needs it); otherwise none yet. A new one is built at the first flush
     * ({@link #firstPlan}), when the calls it runs are known: its graphs then include their segments, so that a
     * training step is one plan from its first step on.
     */
    private void start() {
        synchronized (TornadoKernels.class) {
            if (kept != null
                    && kept.device().equals(device)
                    && Arrays.stream(kept.plan().capacities()).sum() >= reserved) {
                plan = kept.plan();
                seen.addAll(kept.seen());
                segmentPlans = kept.segmentPlans();
                kept = null;
                // The counters start from zero for this instance.
                floatsUpBefore = -plan.floatsUp;
                floatsDownBefore = -plan.floatsDown;
                executionsBefore = -plan.executions;
                return;
            }
            // A kept plan this instance cannot take would only hold device memory beside the one it builds.
            releaseKeptPlan();
        }
        pending = true;
    }

    /** Whether a closed instance's plan is kept for the next. */
    static synchronized boolean hasKeptPlan() {
        return kept != null;
    }

    /**
     * Builds the first plan with a graph for each segment of two or more calls among the first flush's runs,
     * sending every buffer placed so far (none has been sent: nothing ran before). The arenas hold what is
     * placed, the moments' as much as the gradients' (AdamW's come after the first flush, one per gradient), the
     * parameters' a little more, and the activations' what the reservation leaves besides the other four, plus a
     * sixteenth.
     */
    private void firstPlan(List<Segment> segments) {
        for (Segment segment : segments) if (segment.ops().size() >= 2) seen.add(segment);
        long weights = top[Bank.WEIGHTS.ordinal()], grads = top[Bank.GRADS.ordinal()];
        long mem = Math.max(top[Bank.MEM.ordinal()], reserved - weights - 3 * grads);
        long[] floats = new long[Bank.values().length];
        floats[Bank.MEM.ordinal()] = Math.min(arenaLimit, Math.max(MIN_ARENA, mem + mem / 16));
        // Room beside the parameters for what evaluation gathers among them (the label words' head rows).
        floats[Bank.WEIGHTS.ordinal()] = Math.min(arenaLimit, weights + weights / 64 + (1 << 16));
        for (Bank bank : List.of(Bank.GRADS, Bank.MOMENT1, Bank.MOMENT2))
            floats[bank.ordinal()] = Math.max(MIN_BANK, Math.max(grads, top[bank.ordinal()]));
        rebuild(floats, pendingIndexCapacity);
        pending = false;
    }

    /** Runs the recorded calls, segment by segment (see the class comment). */
    private void flush() {
        if (recorded.isEmpty()) return;
        for (float[] data : List.copyOf(unplacedZeros.keySet())) at(new Slice(data, 0, data.length));
        List<List<Call>> runs = Segment.cut(recorded);
        recorded.clear();
        List<Segment> segments = runs.stream().map(Segment::of).toList();
        if (plan == null) firstPlan(segments);
        boolean allSeen = true, allBuilt = true;
        for (Segment segment : segments) {
            if (segment.ops().size() < 2) continue;
            allSeen &= seen.contains(segment);
            allBuilt &= plan.has(segment);
        }
        if (allSeen && !allBuilt && segmentPlans < SEGMENT_PLANS) {
            segmentPlans++;
            rebuild(plan.capacities(), plan.indexCapacity);
        }
        for (int r = 0; r < runs.size(); r++) {
            Segment segment = segments.get(r);
            if (plan.has(segment)) {
                plan.run(segment, runs.get(r));
            } else {
                for (Call call : runs.get(r)) plan.run(call);
                if (segment.ops().size() >= 2) seen.add(segment);
            }
        }
    }

    /** The offset of s's first float in the activations' arena (see below). */
    private int at(Slice s) {
        return at(s, Bank.MEM);
    }

    /**
     * The offset of s's first float in the arena its role names; a buffer seen for the first time is placed there
     * and sent. A buffer keeps its arena: one met in another role fails rather than be read from the wrong one.
     */
    private int at(Slice s, Bank role) {
        if (s == null) return 0;
        float[] data = s.data();
        Place b = base.get(data);
        if (b == null) {
            if (plan == null && !pending) start();
            int r = role.ordinal();
            long end = top[r] + data.length;
            if (end > arenaLimit) throw tooLarge(role.what, end, String.format("%,d", arenaLimit));
            if (plan != null && end > plan.capacity(role)) {
                long[] floats = plan.capacities();
                floats[r] = Math.min(arenaLimit, 2 * end);
                rebuild(floats, plan.indexCapacity);
            }
            b = new Place(role, (int) top[r]);
            base.put(data, b);
            top[r] = end;
            for (int[] zero : unplacedZeros.getOrDefault(data, List.of())) {
                zero[1] += b.offset();
                zero[2] = role.ordinal();
            }
            unplacedZeros.remove(data);
            if (plan != null) plan.upload(data, 0, role, b.offset(), data.length);
        } else if (b.bank() != role) {
            throw new SlimException("a buffer of " + data.length + " floats placed among the " + b.bank().what
                    + " on the device is used as one of the " + role.what + ": each lives in one arena");
        }
        return b.offset() + s.offset();
    }

    /** A new plan with arenas of these sizes holding every buffer placed so far (brought back from the old one). */
    private void rebuild(long[] bankFloats, int indexCapacity) {
        // Recorded calls are not flushed first: buffers keep their offsets, so they run as well on the new plan, and
        // a flush forced here (as the arena first grows, mid-step) would cut the step into segments no other step
        // repeats.
        if (plan != null) {
            for (Map.Entry<float[], Place> e : base.entrySet())
                plan.download(e.getKey(), 0, e.getValue().bank(), e.getValue().offset(), e.getKey().length);
            floatsUpBefore += plan.floatsUp;
            floatsDownBefore += plan.floatsDown;
            executionsBefore += plan.executions;
            plan.close();
        }
        plan = new DevicePlan("slim" + plansBuilt++, device, bankFloats, indexCapacity, List.copyOf(seen));
        for (Map.Entry<float[], Place> e : base.entrySet())
            plan.upload(e.getKey(), 0, e.getValue().bank(), e.getValue().offset(), e.getKey().length);
    }

    // ------------------------------------------------------------------ the calls

    /** Records a launch of op; its ints already hold arena offsets. */
    private void run(Op op, long work, int local, int[] ints, float... floats) {
        if (work > Integer.MAX_VALUE)
            throw new SlimException("a " + op + " call of " + work + " work-items is too large for one kernel");
        if (work == 0) return;
        if (plan == null && !pending) start();
        if (pending) {
            pendingIndexCapacity = Math.max(pendingIndexCapacity, ints.length - DevicePlan.FIXED_INTS);
        } else if (!plan.fits(ints)) {
            rebuild(plan.capacities(), Math.max(2 * plan.indexCapacity, ints.length));
        }
        recorded.add(new Call(op, ints, floats, work, local));
    }

    /** The values, then each list. */
    private static int[] ints(int[] values, int[]... lists) {
        int n = values.length;
        for (int[] l : lists) n += l.length;
        int[] out = new int[n];
        System.arraycopy(values, 0, out, 0, values.length);
        int at = values.length;
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
                throw new IllegalArgumentException("token id " + ids[t] + " at position " + t
                        + " is outside the embedding table of " + rows + " rows");
            }
        }
        run(
                Op.EMBEDDING_FORWARD,
                (long) T * C,
                LOCAL,
                ints(v(T, C, at(out), at(table, Bank.WEIGHTS), accumulate ? 1 : 0), Arrays.copyOf(ids, T)));
    }

    @Override
    public void embeddingBackward(Slice dtable, Slice dout, int[] ids, int T, int C) {
        run(Op.EMBEDDING_BACKWARD, C, LOCAL, ints(v(T, C, at(dtable, Bank.GRADS), at(dout)), Arrays.copyOf(ids, T)));
    }

    @Override
    public void layerNormForward(
            Slice out, Slice mean, Slice rstd, Slice inp, Slice w, Slice b, int T, int C, float eps) {
        run(
                Op.LAYER_NORM_FORWARD,
                T,
                LOCAL,
                ints(v(T, C, at(out), at(mean), at(rstd), at(inp), at(w, Bank.WEIGHTS), at(b, Bank.WEIGHTS))),
                eps);
    }

    @Override
    public void layerNormBackward(
            Slice dinp, Slice dw, Slice db, Slice dout, Slice inp, Slice w, Slice mean, Slice rstd, int T, int C) {
        run(
                Op.LAYER_NORM_BACKWARD_INPUT,
                T,
                LOCAL,
                ints(v(T, C, at(dinp), at(dout), at(inp), at(w, Bank.WEIGHTS), at(mean), at(rstd))));
        run(
                Op.LAYER_NORM_BACKWARD_WEIGHTS,
                C,
                LOCAL,
                ints(v(T, C, at(dw, Bank.GRADS), at(db, Bank.GRADS), at(dout), at(inp), at(mean), at(rstd))));
    }

    @Override
    public void rmsNormForward(Slice out, Slice rstd, Slice inp, Slice w, int T, int C, float eps) {
        run(Op.RMS_NORM_FORWARD, T, LOCAL, ints(v(T, C, at(out), at(rstd), at(inp), at(w, Bank.WEIGHTS))), eps);
    }

    @Override
    public void rmsNormBackward(Slice dinp, Slice dw, Slice dout, Slice inp, Slice w, Slice rstd, int T, int C) {
        run(
                Op.RMS_NORM_BACKWARD_INPUT,
                T,
                LOCAL,
                ints(v(T, C, at(dinp), at(dout), at(inp), at(w, Bank.WEIGHTS), at(rstd))));
        run(Op.RMS_NORM_BACKWARD_WEIGHTS, C, LOCAL, ints(v(T, C, at(dw, Bank.GRADS), at(dout), at(inp), at(rstd))));
    }

    @Override
    public void matmulForward(Slice out, Slice inp, Slice w, Slice bias, int T, int C, int OC) {
        int tile = DeviceKernels.TILE, tilesT = (T + tile - 1) / tile, tilesOC = (OC + tile - 1) / tile;
        int[] ints = ints(v(
                T,
                C,
                OC,
                at(out),
                at(inp),
                at(w, Bank.WEIGHTS),
                at(bias, Bank.WEIGHTS),
                bias != null ? 1 : 0,
                tilesOC));
        int block = DeviceKernels.BLOCK, blocksOC = (OC + block - 1) / block;
        if (T < tile) {
            run(
                    target == Target.CPU ? Op.MATMUL_FORWARD_ROWS_EIGHTS : Op.MATMUL_FORWARD_ROWS,
                    (long) T * blocksOC,
                    LOCAL,
                    ints);
        } else if (target == Target.CPU) {
            run(Op.MATMUL_FORWARD_REGISTERS, (long) (T + block - 1) / block * blocksOC, LOCAL, ints);
        } else {
            run(Op.MATMUL_FORWARD, (long) tilesT * tilesOC * tile * tile, tile * tile, ints);
        }
    }

    @Override
    public void matmulBackward(
            Slice dinp, Slice dw, Slice db, Slice dout, Slice inp, Slice w, int T, int C, int OC, boolean accumulate) {
        if (dinp != null) matmulBackwardInput(dinp, dout, w, T, C, OC, accumulate ? 1 : 0);
        if (dw != null) {
            int block = DeviceKernels.BLOCK, lanes = DeviceKernels.LANES;
            int[] ints = ints(v(T, C, OC, at(dw, Bank.GRADS), at(dout), at(inp)));
            if (target == Target.CPU) {
                run(
                        Op.MATMUL_BACKWARD_WEIGHTS_REGISTERS,
                        (long) (OC + block - 1) / block * ((C + lanes - 1) / lanes),
                        LOCAL,
                        ints);
            } else {
                run(Op.MATMUL_BACKWARD_WEIGHTS, (long) OC * ((C + block - 1) / block), LOCAL, ints);
            }
        }
        if (db != null) {
            run(Op.MATMUL_BACKWARD_BIAS, OC, LOCAL, ints(v(T, OC, at(db, Bank.GRADS), at(dout))));
        }
    }

    /** dinp += dout·w (add), else dinp = dout·w, by the kernel that suits the target and the number of rows. */
    private void matmulBackwardInput(Slice dinp, Slice dout, Slice w, int T, int C, int OC, int add) {
        if (target == Target.CPU && T < DeviceKernels.TILE) {
            int P = (OC + ROWS_PER_PART - 1) / ROWS_PER_PART;
            Slice parts = parts((long) T * P * C);
            run(
                    Op.MATMUL_BACKWARD_INPUT_PARTS,
                    (long) T * P,
                    1,
                    ints(v(T, C, OC, at(parts), at(dout), at(w, Bank.WEIGHTS), ROWS_PER_PART)));
            run(Op.SUM_PARTS, (long) T * C, LOCAL, ints(v(T, C, P, at(dinp), at(parts), add)));
            return;
        }
        int[] ints = ints(v(T, C, OC, at(dinp), at(dout), at(w, Bank.WEIGHTS), add));
        int block = DeviceKernels.BLOCK, columns = DeviceKernels.COLUMNS;
        if (target == Target.CPU) {
            long blocks = (long) (T + block - 1) / block * ((C + DeviceKernels.LANES - 1) / DeviceKernels.LANES);
            run(Op.MATMUL_BACKWARD_INPUT_REGISTERS, blocks, LOCAL, ints);
        } else if (C % columns == 0) {
            // Few work-items (C / 8 per row: 96 for the LM head), so smaller groups to spread them over the cores.
            run(Op.MATMUL_BACKWARD_INPUT_COLUMNS, (long) T * C / columns, LOCAL / 4, ints);
        } else {
            run(Op.MATMUL_BACKWARD_INPUT, (long) T * C, LOCAL, ints);
        }
    }

    @Override
    public void attentionForward(Slice out, Slice att, Slice qkv, Slice dropMask, AttentionShape shape) {
        AttentionHeads heads = shape.heads();
        int T = shape.T(), H = heads.H(), KV = heads.KV(), D = heads.D(), causal = heads.causal() ? 1 : 0;
        int masked = dropMask != null ? 1 : 0;
        run(
                Op.ATTENTION_FORWARD,
                (long) H * shape.Tq(),
                LOCAL,
                ints(v(T, H, KV, D, causal, masked, at(out), at(att), at(qkv), at(dropMask), shape.q0(), shape.Tq())));
    }

    @Override
    public void attentionBackward(
            Slice dqkv, Slice datt, Slice dout, Slice qkv, Slice att, Slice dropMask, AttentionShape shape) {
        AttentionHeads heads = shape.heads();
        int T = shape.T(), q0 = shape.q0(), Tq = shape.Tq(), H = heads.H(), KV = heads.KV(), D = heads.D();
        int causal = heads.causal() ? 1 : 0, masked = dropMask != null ? 1 : 0;
        run(
                Op.ATTENTION_BACKWARD_SCORES,
                (long) H * Tq,
                LOCAL,
                ints(v(T, H, KV, D, causal, masked, at(datt), at(dout), at(qkv), at(att), at(dropMask), q0, Tq)));
        run(
                Op.ATTENTION_BACKWARD_QUERY,
                (long) T * H * D,
                LOCAL,
                ints(v(T, H, KV, D, at(dqkv), at(datt), at(qkv), q0, Tq)));
        run(
                Op.ATTENTION_BACKWARD_KEY_VALUE,
                (long) T * KV * D,
                LOCAL,
                ints(v(T, H, KV, D, masked, at(dqkv), at(datt), at(dout), at(qkv), at(att), at(dropMask), q0, Tq)));
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
        run(Op.ROPE, (long) T * (H + KV) * (D / 2), LOCAL, ints(v(T, H, KV, D, at(qkv), at(cos), at(sin))), direction);
    }

    @Override
    public void activationForward(Nonlinearity act, Slice out, Slice inp, int N) {
        run(Op.ACTIVATION_FORWARD, N, LOCAL, ints(v(N, act.ordinal(), at(out), at(inp))));
    }

    @Override
    public void activationBackward(Nonlinearity act, Slice dinp, Slice inp, Slice dout, int N) {
        run(Op.ACTIVATION_BACKWARD, N, LOCAL, ints(v(N, act.ordinal(), at(dinp), at(inp), at(dout))));
    }

    @Override
    public void swigluForward(Slice out, Slice gateUp, int T, int I) {
        run(Op.SWIGLU_FORWARD, (long) T * I, LOCAL, ints(v(T, I, at(out), at(gateUp))));
    }

    @Override
    public void swigluBackward(Slice dgateUp, Slice gateUp, Slice dout, int T, int I) {
        run(Op.SWIGLU_BACKWARD, (long) T * I, LOCAL, ints(v(T, I, at(dgateUp), at(gateUp), at(dout))));
    }

    @Override
    public void add(Slice out, Slice a, Slice b, int N) {
        run(Op.ADD, N, LOCAL, ints(v(N, at(out), at(a), at(b))));
    }

    @Override
    public void multiply(Slice x, Slice y, int N) {
        run(Op.MULTIPLY, N, LOCAL, ints(v(N, at(x), at(y))));
    }

    /** The device draws its own numbers (a hash of seed and index): the same p, not the CPU's sequence. */
    @Override
    public void dropoutMask(Slice mask, int N, float p, long seed) {
        run(Op.DROPOUT_MASK, N, LOCAL, ints(v(N, at(mask), (int) seed, (int) (seed >>> 32))), p);
    }

    /**
     * Zeroes x in its arena. A buffer not placed yet has no role to name its arena (the gradients, zeroed before the
     * first backward): its call is recorded as any other, and gets the arena and offset when the buffer's first use
     * places it ({@link #at}), or at the flush, among the activations, where none does.
     */
    @Override
    public void zero(Slice x, int N) {
        Place b = base.get(x.data());
        if (b == null) {
            int[] ints = v(N, x.offset(), Bank.MEM.ordinal()); // the offset within x's buffer until it is placed
            run(Op.ZERO, N, LOCAL, ints);
            unplacedZeros.computeIfAbsent(x.data(), d -> new ArrayList<>()).add(ints);
            return;
        }
        run(Op.ZERO, N, LOCAL, ints(v(N, at(x, b.bank()), b.bank().ordinal())));
    }

    @Override
    public void copy(Slice dst, Slice src, int N) {
        run(Op.COPY, N, LOCAL, ints(v(N, at(dst), at(src))));
    }

    /**
     * Rows of parameters (the LM head's of the label words) are gathered among the parameters, since a product
     * then reads them as its weight; rows of activations among the activations.
     */
    @Override
    public void gatherRows(Slice dst, Slice src, int[] rows, int n, int C) {
        Place from = base.get(src.data());
        Bank bank = from != null && from.bank() == Bank.WEIGHTS ? Bank.WEIGHTS : Bank.MEM;
        Op op = bank == Bank.WEIGHTS ? Op.GATHER_WEIGHT_ROWS : Op.GATHER_ROWS;
        run(op, (long) n * C, LOCAL, ints(v(n, C, at(dst, bank), at(src, bank)), Arrays.copyOf(rows, n)));
    }

    @Override
    public void scatterAddRows(Slice dst, Slice src, int[] rows, int n, int C) {
        run(Op.SCATTER_ADD_ROWS, C, LOCAL, ints(v(n, C, at(dst), at(src)), Arrays.copyOf(rows, n)));
    }

    @Override
    public void meanRowsForward(Slice out, Slice inp, int T, int C) {
        run(Op.MEAN_ROWS_FORWARD, C, LOCAL, ints(v(T, C, at(out), at(inp))));
    }

    @Override
    public void meanRowsBackward(Slice dinp, Slice dout, int T, int C) {
        run(Op.MEAN_ROWS_BACKWARD, (long) T * C, LOCAL, ints(v(T, C, at(dinp), at(dout))));
    }

    @Override
    public void crossEntropyForward(
            Slice losses, Slice probs, Slice logits, int[] targets, int[] candidates, int n, int V) {
        int[] cand = candidates == null ? new int[0] : candidates;
        run(
                Op.CROSS_ENTROPY_FORWARD,
                (long) n * DeviceKernels.CE_GROUP,
                DeviceKernels.CE_GROUP,
                ints(v(n, V, at(probs), at(logits), cand.length, at(losses)), Arrays.copyOf(targets, n), cand));
    }

    @Override
    public void crossEntropyBackward(Slice dlogits, Slice probs, int[] targets, int[] candidates, int n, int V) {
        run(
                Op.CROSS_ENTROPY_BACKWARD,
                (long) n * V,
                LOCAL,
                ints(v(n, V, at(dlogits), at(probs)), Arrays.copyOf(targets, n)));
    }

    @Override
    public void adamw(Slice params, Slice grads, Slice m, Slice v, int N, AdamWSettings settings, int step) {
        run(
                target == Target.CPU ? Op.ADAMW_EIGHTS : Op.ADAMW,
                items(N),
                LOCAL,
                ints(v(
                        N,
                        at(params, Bank.WEIGHTS),
                        at(grads, Bank.GRADS),
                        at(m, Bank.MOMENT1),
                        at(v, Bank.MOMENT2),
                        elementsPerItem)),
                adamwFloats(settings, step));
    }

    /** One pass over the weight: its gradient's outer product is formed where AdamW reads it (stored need not be
     * consulted: grads is zero in the rows it leaves out). */
    @Override
    public void adamwOuterProduct(
            Slice params,
            Slice grads,
            Slice m,
            Slice v,
            Slice dout,
            Slice inp,
            boolean[] stored,
            int R,
            int C,
            AdamWSettings settings,
            int step) {
        // A CPU device's work-items take whole rows (about elementsPerItem floats), a GPU's one element each.
        boolean rows = target == Target.CPU;
        int each = rows ? Math.max(1, elementsPerItem / C) : elementsPerItem;
        run(
                rows ? Op.ADAMW_OUTER_PRODUCT_EIGHTS : Op.ADAMW_OUTER_PRODUCT,
                rows ? (R + each - 1) / each : items((long) R * C),
                LOCAL,
                ints(v(
                        R * C,
                        C,
                        at(params, Bank.WEIGHTS),
                        at(grads, Bank.GRADS),
                        at(m, Bank.MOMENT1),
                        at(v, Bank.MOMENT2),
                        at(dout),
                        at(inp),
                        each)),
                adamwFloats(settings, step));
    }

    /** n floats of scratch for partial sums; a larger need places a new, doubled buffer. */
    private Slice parts(long n) {
        if (n > partsScratch.length) partsScratch = new float[(int) Math.min(Integer.MAX_VALUE - 16, 2 * n)];
        return new Slice(partsScratch, 0, (int) n);
    }

    /** Work-items for n elements in runs of elementsPerItem. */
    private long items(long n) {
        return (n + elementsPerItem - 1) / elementsPerItem;
    }

    /**
     * beta1, beta2, the decay factor, and the step size and eps each times sqrt(1 - beta2^step): the device
     * kernels' form of AdamW's update, one division fewer per element (see DeviceKernels.adamw).
     */
    private static float[] adamwFloats(AdamWSettings settings, int step) {
        float lr = settings.lr(), beta1 = settings.beta1(), beta2 = settings.beta2();
        double correction1 = 1 - Math.pow(beta1, step);
        double correction2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        return new float[] {
            beta1,
            beta2,
            1f - lr * settings.weightDecay(),
            (float) (lr / correction1 * correction2Sqrt),
            (float) (settings.eps() * correction2Sqrt)
        };
    }
}
