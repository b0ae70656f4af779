package slim.tornado;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import slim.nn.SlimException;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;

/**
 * The device side: five arenas ({@link Bank}: float[]s that hold every model buffer together) that live on
 * the device, one small task graph per kernel, and one graph per {@link Segment} (a run of kernel calls that
 * recurs, such as a block's attention half), all in one execution plan: TornadoVM hands a persisted
 * buffer only from one graph to the next of the same plan. Every graph takes the arenas from the graph
 * that ran before it ({@code consumeFromDevice}) and leaves them on the device ({@code persistOnDevice}),
 * so a kernel call sends only its parameters (a few ints and floats) and an arena never travels whole.
 * Host reads and writes go through a staging buffer in chunks.
 *
 * <p>Graph 0 uploads (staging → an arena) and is the one that creates the arenas' device buffers, so it
 * runs first; graph 1 downloads (an arena → staging); graphs 2 and 3 do the same in bulk ({@link #BULK_STAGING});
 * then one graph per {@link Op}, then the segments'.
 * A segment's graph has one task per call, each reading its parameters at its own place in the graph's
 * one int[] and float[] (sizes and offsets are data, so one graph serves every layer and sequence
 * length). TornadoVM compiles each task once, on the graph's first use; segments stay short
 * ({@link Segment#MAX_CALLS}), since a graph of hundreds of tasks takes its graph compiler minutes and
 * overflows its bytecode buffer.
 */
final class DevicePlan implements AutoCloseable {
    /**
     * Floats one upload or download execution moves at most: the staging buffer travels whole each time, so
     * the host's reads (the loss, the label words' logits) go through a small one and the rest (a model's
     * weights sent, every buffer moved to a new plan: gigabytes for GPT2-XL) through a bulk one, a few thousand
     * executions fewer per gigabyte.
     */
    static final int STAGING = 1 << 16, BULK_STAGING = 1 << 22;
    /** Ints of parameters (offsets, sizes) a call has besides its index list. */
    static final int FIXED_INTS = 32;

    private static final int FLOATS = 8;

    /**
     * The arenas, by what they hold. Each is one Java float[] (TornadoVM's buffers are Java arrays), so at most
     * about 2^31 floats: training keeps four floats per parameter (the weight, its gradient and both AdamW moments)
     * beside the activations, and five arenas hold a model of up to about 2 G parameters with 2 G floats of
     * activations. A kernel finds each of its buffers in the arena its role names (a weight gradient in GRADS,
     * say); the ordinals are DeviceKernels' bank numbers.
     */
    enum Bank {
        MEM("activations"),
        WEIGHTS("parameters"),
        GRADS("parameter gradients"),
        MOMENT1("AdamW first moments"),
        MOMENT2("AdamW second moments");

        final String what;

        Bank(String what) {
            this.what = what;
        }
    }

    private final float[][] banks = new float[Bank.values().length][];

    /** A staging buffer, its graph, and its kernel's ints (N, offset, bank) and grid. */
    private record Staging(float[] floats, int graph, int[] ints, WorkerGrid1D grid) {
        Staging(int floats, int graph) {
            this(new float[floats], graph, new int[4], new WorkerGrid1D(64));
        }
    }

    private final Staging up = new Staging(STAGING, 0), down = new Staging(STAGING, 1);
    private final Staging bulkUp = new Staging(BULK_STAGING, 2), bulkDown = new Staging(BULK_STAGING, 3);
    /** Graphs before the kernels': the four transfers. */
    private static final int FIRST_KERNEL_GRAPH = 4;

    private final Map<Op, Integer> graphIndex = new EnumMap<>(Op.class);
    private final Map<Op, int[]> ints = new EnumMap<>(Op.class);
    private final Map<Op, float[]> floats = new EnumMap<>(Op.class);
    private final Map<Op, WorkerGrid1D> grids = new EnumMap<>(Op.class);
    private final Map<Segment, SegmentGraph> segmentGraphs = new HashMap<>();
    private final TornadoExecutionPlan plan;
    final int indexCapacity;

    /** Transfer counters: floats through staging each way, and kernel executions. */
    long floatsUp, floatsDown, executions;

    /** A segment's graph: its index in the plan, parameter arrays, and each call's grid and parameter offsets. */
    private record SegmentGraph(int index, int[] ints, float[] floats, WorkerGrid1D[] grids, int[] intsAt) {}

    /** A plan with arenas of these many floats (by {@link Bank}). */
    DevicePlan(String name, TornadoDevice device, long[] bankFloats, int indexCapacity, List<Segment> segments) {
        this.indexCapacity = indexCapacity;
        for (Bank bank : Bank.values()) banks[bank.ordinal()] = new float[Math.toIntExact(bankFloats[bank.ordinal()])];
        Object[] arenas = banks;
        KernelContext context = new KernelContext();
        GridScheduler scheduler = new GridScheduler();
        Op[] ops = Op.values();
        ImmutableTaskGraph[] graphs = new ImmutableTaskGraph[FIRST_KERNEL_GRAPH + ops.length + segments.size()];
        graphs[up.graph()] = transferGraph(name + "Up", true, up, context, scheduler);
        graphs[down.graph()] = transferGraph(name + "Down", false, down, context, scheduler);
        graphs[bulkUp.graph()] = transferGraph(name + "BulkUp", true, bulkUp, context, scheduler);
        graphs[bulkDown.graph()] = transferGraph(name + "BulkDown", false, bulkDown, context, scheduler);

        for (Op op : ops) {
            String g = name + op.name().replace("_", "");
            int[] in = new int[FIXED_INTS + (op.variableInts ? indexCapacity : 0)];
            float[] fl = new float[FLOATS];
            float[] aux = new float[1];
            TaskGraph tg = new TaskGraph(g)
                    .consumeFromDevice(arenas)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, in, fl)
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, aux);
            task(tg, "t", op.code, context, aux, in, fl, 0, 0);
            graphs[FIRST_KERNEL_GRAPH + op.ordinal()] =
                    tg.persistOnDevice(arenas).snapshot();
            WorkerGrid1D grid = new WorkerGrid1D(64);
            scheduler.addWorkerGrid(g + ".t", grid);
            graphIndex.put(op, FIRST_KERNEL_GRAPH + op.ordinal());
            ints.put(op, in);
            floats.put(op, fl);
            grids.put(op, grid);
        }
        for (int i = 0; i < segments.size(); i++) {
            Segment segment = segments.get(i);
            String g = name + "Seg" + i;
            int n = segment.ops().size();
            int[] intsAt = new int[n];
            int intCount = 0;
            for (int c = 0; c < n; c++) {
                intsAt[c] = intCount;
                intCount += FIXED_INTS + (segment.ops().get(c).variableInts ? indexCapacity : 0);
            }
            int[] in = new int[intCount];
            float[] fl = new float[n * FLOATS];
            float[] aux = new float[1];
            TaskGraph tg = new TaskGraph(g)
                    .consumeFromDevice(arenas)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, in, fl)
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, aux);
            WorkerGrid1D[] segmentGrids = new WorkerGrid1D[n];
            for (int c = 0; c < n; c++) {
                task(tg, "t" + c, segment.ops().get(c).code, context, aux, in, fl, intsAt[c], c * FLOATS);
                segmentGrids[c] = new WorkerGrid1D(64);
                scheduler.addWorkerGrid(g + ".t" + c, segmentGrids[c]);
            }
            int index = FIRST_KERNEL_GRAPH + ops.length + i;
            graphs[index] = tg.persistOnDevice(arenas).snapshot();
            segmentGraphs.put(segment, new SegmentGraph(index, in, fl, segmentGrids, intsAt));
        }
        plan = new TornadoExecutionPlan(graphs);
        plan.withDevice(device).withGridScheduler(scheduler);
        // The upload graph creates the arenas' device buffers (zeros); every other graph consumes them.
        transfer(up, Bank.MEM, 0, 0);
    }

    /**
     * The graph of an upload (staging → an arena) or download (an arena → staging) through s. The small upload's,
     * run first, creates the arenas' device buffers; the others take them from the graph before.
     */
    private ImmutableTaskGraph transferGraph(
            String name, boolean toDevice, Staging s, KernelContext context, GridScheduler scheduler) {
        Object[] arenas = banks;
        float[] unused = new float[1];
        TaskGraph graph = new TaskGraph(name);
        if (s == up) graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, arenas);
        else graph.consumeFromDevice(arenas);
        if (toDevice) graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, s.floats());
        graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, s.ints())
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, unused);
        Op.Code code = toDevice ? DeviceKernels::upload : DeviceKernels::download;
        task(graph, "t", code, context, s.floats(), s.ints(), unused, 0, 0);
        if (!toDevice) graph.transferToHost(DataTransferMode.EVERY_EXECUTION, s.floats());
        scheduler.addWorkerGrid(name + ".t", s.grid());
        return graph.persistOnDevice(arenas).snapshot();
    }

    /** Adds a task of code to graph with the arenas in their places, then the rest of the kernel signature. */
    private TaskGraph task(
            TaskGraph graph,
            String id,
            Op.Code code,
            KernelContext context,
            float[] aux,
            int[] in,
            float[] fl,
            int i0,
            int f0) {
        return graph.task(id, code, context, banks[0], banks[1], banks[2], banks[3], banks[4], aux, in, fl, i0, f0);
    }

    /** Floats the bank holds. */
    long capacity(Bank bank) {
        return banks[bank.ordinal()].length;
    }

    /** Floats each bank holds, by {@link Bank}. */
    long[] capacities() {
        long[] floats = new long[banks.length];
        for (int b = 0; b < banks.length; b++) floats[b] = banks[b].length;
        return floats;
    }

    /** Whether a call with an index list of this length fits this plan's parameter arrays. */
    boolean fits(int[] callInts) {
        return callInts.length <= FIXED_INTS + indexCapacity;
    }

    /** Runs a call alone, in its kernel's one-task graph. */
    void run(Call call) {
        if (call.work() == 0) return;
        System.arraycopy(call.ints(), 0, ints.get(call.op()), 0, call.ints().length);
        System.arraycopy(call.floats(), 0, floats.get(call.op()), 0, call.floats().length);
        size(grids.get(call.op()), call);
        execute(graphIndex.get(call.op()));
    }

    /** Whether this plan has a graph for the segment. */
    boolean has(Segment segment) {
        return segmentGraphs.containsKey(segment);
    }

    /** Runs the calls of a segment this plan has a graph for, as one execution. */
    void run(Segment segment, List<Call> calls) {
        SegmentGraph g = segmentGraphs.get(segment);
        for (int c = 0; c < calls.size(); c++) {
            Call call = calls.get(c);
            System.arraycopy(call.ints(), 0, g.ints(), g.intsAt()[c], call.ints().length);
            System.arraycopy(call.floats(), 0, g.floats(), c * FLOATS, call.floats().length);
            size(g.grids()[c], call);
        }
        execute(g.index());
    }

    /** The call's work-items rounded up to whole groups. */
    private static void size(WorkerGrid1D grid, Call call) {
        grid.setGlobalWork((call.work() + call.local() - 1) / call.local() * call.local(), 1, 1);
        grid.setLocalWork(call.local(), 1, 1);
    }

    /** Host → arena: n floats of src from srcOffset to the bank at arenaOffset. */
    void upload(float[] src, int srcOffset, Bank bank, int arenaOffset, int n) {
        for (int done = 0, chunk; done < n; done += chunk) {
            Staging s = n - done > STAGING ? bulkUp : up;
            chunk = Math.min(s.floats().length, n - done);
            System.arraycopy(src, srcOffset + done, s.floats(), 0, chunk);
            transfer(s, bank, arenaOffset + done, chunk);
            floatsUp += chunk;
        }
    }

    /** Arena → host: n floats from the bank at arenaOffset into dst at dstOffset. */
    void download(float[] dst, int dstOffset, Bank bank, int arenaOffset, int n) {
        for (int done = 0, chunk; done < n; done += chunk) {
            Staging s = n - done > STAGING ? bulkDown : down;
            chunk = Math.min(s.floats().length, n - done);
            transfer(s, bank, arenaOffset + done, chunk);
            System.arraycopy(s.floats(), 0, dst, dstOffset + done, chunk);
            floatsDown += chunk;
        }
    }

    /** One execution of s's upload or download kernel (ints: N, offset, bank). */
    private void transfer(Staging s, Bank bank, int arenaOffset, int n) {
        s.ints()[0] = n;
        s.ints()[1] = arenaOffset;
        s.ints()[2] = bank.ordinal();
        s.grid().setGlobalWork(Math.max(64, (n + 63) / 64 * 64), 1, 1);
        s.grid().setLocalWork(64, 1, 1);
        execute(s.graph());
    }

    private void execute(int graph) {
        plan.withGraph(graph).execute();
        executions++;
    }

    @Override
    public void close() {
        try {
            plan.freeDeviceMemory();
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new SlimException("TornadoVM could not release the device plan: " + e.getMessage(), e);
        }
    }
}
