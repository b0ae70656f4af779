package slim.tornado;

import java.util.ArrayList;
import java.util.List;

/**
 * A run of kernel calls that recurs, named by its kernels in order: the unit that becomes one task graph.
 * A model step cuts into segments at its blocks: a block's forward is the run from a norm through its
 * attention to the next norm, and its backward the run through its attention's gradients to the next norm's
 * weight gradients, so every layer of a model, at every sequence length, repeats the same few segments (one
 * forward, one backward), and one graph each serves them all.
 */
record Segment(List<Op> ops) {
    /**
     * Most calls in one segment: a block's backward is about 30 (GPT-2's, with dropout). TornadoVM's bytecode
     * buffer overflows between 36 and 100 tasks at its default size, so {@link TornadoKernels} raises it to
     * {@link #BYTECODE_BYTES} where nothing has set it.
     */
    static final int MAX_CALLS = 48;

    /** TornadoVM's bytecode buffer per graph (tornado.tvm.maxbytecodesize, 4096 bytes by default): room for
     * MAX_CALLS tasks at up to 114 bytes each, the most seen. */
    static final int BYTECODE_BYTES = 16384;

    /**
     * calls cut into runs: before a norm's forward once the run holds an attention forward (a block's forward
     * ends where the next block's, or the final norm, begins), after a norm's weight gradients once the run holds
     * an attention backward (a block's backward ends with its first norm's), at MAX_CALLS, and around each AdamW
     * call, which runs alone. The optimiser's calls end a step, but where the host's next read falls (and so which
     * calls they share a flush with) differs between callers: alone, they leave every other run as it is in the
     * first step, whose runs the first plan gets graphs for.
     */
    static List<List<Call>> cut(List<Call> calls) {
        List<List<Call>> runs = new ArrayList<>();
        List<Call> run = new ArrayList<>();
        for (Call call : calls) {
            Op op = call.op();
            boolean alone = op == Op.ADAMW || op == Op.ADAMW_OUTER_PRODUCT;
            boolean norm = op == Op.LAYER_NORM_FORWARD || op == Op.RMS_NORM_FORWARD;
            if (!run.isEmpty() && (alone || (norm && holds(run, Op.ATTENTION_FORWARD)) || run.size() == MAX_CALLS)) {
                runs.add(run);
                run = new ArrayList<>();
            }
            run.add(call);
            boolean normGradients = op == Op.LAYER_NORM_BACKWARD_WEIGHTS || op == Op.RMS_NORM_BACKWARD_WEIGHTS;
            if (alone || (normGradients && holds(run, Op.ATTENTION_BACKWARD_KEY_VALUE))) {
                runs.add(run);
                run = new ArrayList<>();
            }
        }
        if (!run.isEmpty()) runs.add(run);
        return runs;
    }

    private static boolean holds(List<Call> run, Op op) {
        return run.stream().anyMatch(call -> call.op() == op);
    }

    static Segment of(List<Call> run) {
        return new Segment(run.stream().map(Call::op).toList());
    }
}
