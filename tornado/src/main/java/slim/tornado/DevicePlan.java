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
 * runs first; graph 1 downloads (an arena → staging); then one graph per {@link Op}, then the segments'.
 * A segment's graph has one task per call, each reading its parameters at its own place in the graph's
 * one int[] and float[] (sizes and offsets are data, so one graph serves every layer and sequence
 * length). TornadoVM compiles each task once, on the graph's first use; segments stay short
 * ({@link Segment#MAX_CALLS}), since a graph of hundreds of tasks takes its graph compiler minutes and
 * overflows its bytecode buffer.
 */
final class DevicePlan implements AutoCloseable {
    /** Floats moved per upload or download execution. */
    static final int STAGING = 1 << 16;
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
    private final float[] upStaging = new float[STAGING], downStaging = new float[STAGING];
    private final int[] upInts = new int[4], downInts = new int[4];
    private final float[] upFloats = new float[1], downFloats = new float[1];
    private final Map<Op, Integer> graphIndex = new EnumMap<>(Op.class);
    private final Map<Op, int[]> ints = new EnumMap<>(Op.class);
    private final Map<Op, float[]> floats = new EnumMap<>(Op.class);
    private final Map<Op, WorkerGrid1D> grids = new EnumMap<>(Op.class);
    private final Map<Segment, SegmentGraph> segmentGraphs = new HashMap<>();
    private final WorkerGrid1D uploadGrid = new WorkerGrid1D(64);
    private final WorkerGrid1D downloadGrid = new WorkerGrid1D(64);
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
        ImmutableTaskGraph[] graphs = new ImmutableTaskGraph[2 + ops.length + segments.size()];

        String up = name + "Up";
        TaskGraph upGraph = new TaskGraph(up)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, arenas)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, upStaging, upInts)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, upFloats);
        graphs[0] = task(upGraph, "t", DeviceKernels::upload, context, upStaging, upInts, upFloats, 0, 0)
                .persistOnDevice(arenas)
                .snapshot();
        scheduler.addWorkerGrid(up + ".t", uploadGrid);

        String down = name + "Down";
        TaskGraph downGraph = new TaskGraph(down)
                .consumeFromDevice(arenas)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, downInts)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, downFloats);
        graphs[1] = task(downGraph, "t", DeviceKernels::download, context, downStaging, downInts, downFloats, 0, 0)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, downStaging)
                .persistOnDevice(arenas)
                .snapshot();
        scheduler.addWorkerGrid(down + ".t", downloadGrid);

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
            graphs[2 + op.ordinal()] = tg.persistOnDevice(arenas).snapshot();
            WorkerGrid1D grid = new WorkerGrid1D(64);
            scheduler.addWorkerGrid(g + ".t", grid);
            graphIndex.put(op, 2 + op.ordinal());
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
            int index = 2 + ops.length + i;
            graphs[index] = tg.persistOnDevice(arenas).snapshot();
            segmentGraphs.put(segment, new SegmentGraph(index, in, fl, segmentGrids, intsAt));
        }
        plan = new TornadoExecutionPlan(graphs);
        plan.withDevice(device).withGridScheduler(scheduler);
        // The upload graph creates the arenas' device buffers (zeros); every other graph consumes them.
        transfer(true, Bank.MEM, 0, 0);
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
        for (int done = 0; done < n; done += STAGING) {
            int chunk = Math.min(STAGING, n - done);
            System.arraycopy(src, srcOffset + done, upStaging, 0, chunk);
            transfer(true, bank, arenaOffset + done, chunk);
            floatsUp += chunk;
        }
    }

    /** Arena → host: n floats from the bank at arenaOffset into dst at dstOffset. */
    void download(float[] dst, int dstOffset, Bank bank, int arenaOffset, int n) {
        for (int done = 0; done < n; done += STAGING) {
            int chunk = Math.min(STAGING, n - done);
            transfer(false, bank, arenaOffset + done, chunk);
            System.arraycopy(downStaging, 0, dst, dstOffset + done, chunk);
            floatsDown += chunk;
        }
    }

    /** One execution of the upload or download kernel (ints: N, offset, bank). */
    private void transfer(boolean up, Bank bank, int arenaOffset, int n) {
        int[] in = up ? upInts : downInts;
        in[0] = n;
        in[1] = arenaOffset;
        in[2] = bank.ordinal();
        WorkerGrid1D grid = up ? uploadGrid : downloadGrid;
        grid.setGlobalWork(Math.max(64, (n + 63) / 64 * 64), 1, 1);
        grid.setLocalWork(64, 1, 1);
        execute(up ? 0 : 1);
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
