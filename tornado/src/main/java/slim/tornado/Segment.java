package slim.tornado;

import java.util.ArrayList;
import java.util.List;

/**
 * A run of kernel calls that recurs, named by its kernels in order: the unit that becomes one task graph.
 * A model step cuts into segments at its norms: a block's forward starts each half (attention, MLP) with
 * a norm, and its backward ends each half with the norm's weight gradients, so every layer of a model,
 * at every sequence length, repeats the same few segments; one graph each serves them all.
 */
record Segment(List<Op> ops) {
    /** Most calls in one segment: TornadoVM's graph compiler slows down and its bytecode buffer overflows
     * between 36 and 100 tasks. */
    static final int MAX_CALLS = 24;

    /**
     * calls cut into runs: before each norm's forward, after each norm's weight gradients, at MAX_CALLS, and
     * around each AdamW call, which runs alone. The optimiser's calls end a step, but where the host's next read
     * falls (and so which calls they share a flush with) differs between callers: alone, they leave every other
     * run as it is in the first step, whose runs the first plan gets graphs for.
     */
    static List<List<Call>> cut(List<Call> calls) {
        List<List<Call>> runs = new ArrayList<>();
        List<Call> run = new ArrayList<>();
        for (Call call : calls) {
            boolean alone = call.op() == Op.ADAMW || call.op() == Op.ADAMW_OUTER_PRODUCT;
            boolean startsRun = alone || call.op() == Op.LAYER_NORM_FORWARD || call.op() == Op.RMS_NORM_FORWARD;
            if (!run.isEmpty() && (startsRun || run.size() == MAX_CALLS)) {
                runs.add(run);
                run = new ArrayList<>();
            }
            run.add(call);
            if (alone || call.op() == Op.LAYER_NORM_BACKWARD_WEIGHTS || call.op() == Op.RMS_NORM_BACKWARD_WEIGHTS) {
                runs.add(run);
                run = new ArrayList<>();
            }
        }
        if (!run.isEmpty()) runs.add(run);
        return runs;
    }

    static Segment of(List<Call> run) {
        return new Segment(run.stream().map(Call::op).toList());
    }
}
