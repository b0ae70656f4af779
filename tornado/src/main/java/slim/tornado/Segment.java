package slim.tornado;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

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

    /** AdamW's kernels, on either target. */
    private static final Set<Op> ADAMW =
            EnumSet.of(Op.ADAMW, Op.ADAMW_EIGHTS, Op.ADAMW_OUTER_PRODUCT, Op.ADAMW_OUTER_PRODUCT_EIGHTS);

    /**
     * calls cut into runs: before a norm's forward once the run holds an attention forward (a block's forward
     * ends where the next block's, or the final norm, begins), after a norm's weight gradients once the run holds
     * an attention backward (a block's backward ends with its first norm's), and at MAX_CALLS. The first block's
     * backward, the last to run (no attention backward follows before the next forward pass), is not cut there: its
     * run goes on through the embeddings' gradients and the optimiser's calls that follow it, up to the next forward
     * pass, so a step ends in one execution, not in one per embedding table and AdamW call. AdamW calls anywhere
     * else (at the start of a flush, where a caller read the loss before the optimiser) run alone, so that the
     * other runs stay as they are in the first step, whose runs the first plan gets graphs for.
     */
    static List<List<Call>> cut(List<Call> calls) {
        List<List<Call>> runs = new ArrayList<>();
        List<Call> run = new ArrayList<>();
        boolean tail = false; // the run is the first block's backward, taking the step's remaining calls
        for (int i = 0; i < calls.size(); i++) {
            Call call = calls.get(i);
            Op op = call.op();
            boolean tailEnds = tail && (op == Op.EMBEDDING_FORWARD || run.size() == MAX_CALLS);
            if (tailEnds) tail = false;
            boolean alone = !tail && ADAMW.contains(op);
            boolean norm = !tail && (op == Op.LAYER_NORM_FORWARD || op == Op.RMS_NORM_FORWARD);
            if (!run.isEmpty()
                    && (tailEnds || alone || (norm && holds(run, Op.ATTENTION_FORWARD)) || run.size() == MAX_CALLS)) {
                runs.add(run);
                run = new ArrayList<>();
            }
            run.add(call);
            boolean normGradients = op == Op.LAYER_NORM_BACKWARD_WEIGHTS || op == Op.RMS_NORM_BACKWARD_WEIGHTS;
            boolean blockBackwardEnds = !tail && normGradients && holds(run, Op.ATTENTION_BACKWARD_KEY_VALUE);
            if (blockBackwardEnds && !blockBackwardFollows(calls, i + 1)) {
                tail = true;
            } else if (alone || blockBackwardEnds) {
                runs.add(run);
                run = new ArrayList<>();
            }
        }
        if (!run.isEmpty()) runs.add(run);
        return runs;
    }

    /** Whether another block's backward (its attention's gradients) follows from calls[from], before a forward pass. */
    private static boolean blockBackwardFollows(List<Call> calls, int from) {
        for (int i = from; i < calls.size(); i++) {
            Op op = calls.get(i).op();
            if (op == Op.EMBEDDING_FORWARD) return false;
            if (op == Op.ATTENTION_BACKWARD_KEY_VALUE) return true;
        }
        return false;
    }

    private static boolean holds(List<Call> run, Op op) {
        return run.stream().anyMatch(call -> call.op() == op);
    }

    static Segment of(List<Call> run) {
        return new Segment(run.stream().map(Call::op).toList());
    }
}
