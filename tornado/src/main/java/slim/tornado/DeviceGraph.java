package slim.tornado;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import slim.nn.SlimException;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;

/**
 * One TaskGraph holding the tasks of every segment, in one execution plan: because it is one graph,
 * its buffers stay on the device from one execution to the next, whichever segment runs. A run
 * switches on the tasks of one segment (the others see their flag off and return at once), fills in
 * the calls' parameters and sizes each task's grid to its call.
 */
final class DeviceGraph implements AutoCloseable {
    private final List<Segment> segments;
    private final int[] segmentFirstTask;
    private final int[] intBase;
    private final int[] floatBase;
    private final int[] local;
    private final WorkerGrid1D[] grids;
    private final int[] ints;
    private final float[] floats;
    private final Set<float[]> buffers = Collections.newSetFromMap(new IdentityHashMap<>());
    private final TornadoExecutionPlan plan;
    private TornadoExecutionResult result;

    DeviceGraph(String name, TornadoDevice device, List<Segment> segments) {
        this.segments = segments;
        segmentFirstTask = new int[segments.size()];
        int tasks = 0, intSize = 0, floatSize = 1;
        for (int s = 0; s < segments.size(); s++) {
            segmentFirstTask[s] = tasks;
            Segment seg = segments.get(s);
            tasks += seg.calls.size();
            for (int i = 0; i < seg.calls.size(); i++) {
                intSize += seg.intRoom[i];
                floatSize += seg.calls.get(i).floats().length;
                for (float[] b : seg.calls.get(i).buffers()) buffers.add(b);
            }
        }
        intBase = new int[tasks];
        floatBase = new int[tasks];
        local = new int[tasks];
        grids = new WorkerGrid1D[tasks];
        ints = new int[intSize];
        floats = new float[floatSize];
        Object[] all = buffers.toArray();

        TaskGraph graph = new TaskGraph(name)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, ints, floats)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, all);
        GridScheduler scheduler = new GridScheduler();
        KernelContext context = new KernelContext();
        int task = 0, ib = 0, fb = 0;
        for (Segment seg : segments) {
            for (int i = 0; i < seg.calls.size(); i++, task++) {
                Call c = seg.calls.get(i);
                float[][] b = c.buffers();
                String id = "t" + task;
                graph.task(id, c.op().code, context, b[0], b[1], b[2], b[3], b[4], b[5], ints, floats, ib, fb);
                intBase[task] = ib;
                floatBase[task] = fb;
                local[task] = c.local();
                grids[task] = new WorkerGrid1D(c.local());
                grids[task].setLocalWork(c.local(), 1, 1);
                scheduler.addWorkerGrid(name + "." + id, grids[task]);
                ib += seg.intRoom[i];
                fb += c.floats().length;
            }
        }
        graph.transferToHost(DataTransferMode.UNDER_DEMAND, all);
        plan = new TornadoExecutionPlan(graph.snapshot());
        plan.withDevice(device).withGridScheduler(scheduler);
    }

    boolean holds(float[] buffer) {
        return buffers.contains(buffer);
    }

    /** Runs one segment with the parameters of these calls (recorded like the segment's own). */
    void run(Segment segment, List<Call> calls) {
        int s = segments.indexOf(segment);
        if (s < 0) throw new IllegalStateException("segment not in this graph");
        for (int t = 0; t < grids.length; t++) {
            ints[intBase[t]] = 0;
            grids[t].setGlobalWork(local[t], 1, 1);
        }
        for (int i = 0; i < calls.size(); i++) {
            Call c = calls.get(i);
            int t = segmentFirstTask[s] + i;
            if (c.work() == 0) continue;
            System.arraycopy(c.ints(), 0, ints, intBase[t], c.ints().length);
            System.arraycopy(c.floats(), 0, floats, floatBase[t], c.floats().length);
            grids[t].setGlobalWork((long) (c.work() + local[t] - 1) / local[t] * local[t], 1, 1);
        }
        result = plan.execute();
    }

    void toHost(float[] buffer) {
        if (result != null) result.transferToHost(buffer);
    }

    void allToHost() {
        if (result != null) result.transferToHost(buffers.toArray());
    }

    @Override
    public void close() {
        try {
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new SlimException("TornadoVM could not release the device graph: " + e.getMessage(), e);
        }
    }
}
