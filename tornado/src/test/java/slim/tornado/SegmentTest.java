package slim.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How a recorded flush cuts into runs (no device needed): a pre-norm model's step, as the model records it, with the
 * optimiser's calls in the same flush (the trainer reads the loss after them) or in the next one (a caller that reads
 * it before them).
 */
class SegmentTest {
    private static final int K = 4;

    private static void add(List<Call> calls, Op... ops) {
        for (Op op : ops) calls.add(new Call(op, new int[0], new float[0], 1, 1));
    }

    /** A pre-norm step of k blocks as Model records it, its optimiser's calls at the end where withAdamW. */
    private static List<Call> step(int k, boolean withAdamW) {
        List<Call> calls = new ArrayList<>();
        add(calls, Op.EMBEDDING_FORWARD);
        for (int l = 0; l < k; l++) {
            add(calls, Op.RMS_NORM_FORWARD, Op.MATMUL_FORWARD_REGISTERS, Op.ROPE, Op.ATTENTION_FORWARD);
            add(calls, Op.MATMUL_FORWARD_ROWS, Op.ADD, Op.RMS_NORM_FORWARD, Op.MATMUL_FORWARD_ROWS);
            add(calls, Op.SWIGLU_FORWARD, Op.MATMUL_FORWARD_ROWS, Op.ADD);
        }
        add(calls, Op.RMS_NORM_FORWARD, Op.GATHER_ROWS, Op.MATMUL_FORWARD_ROWS, Op.CROSS_ENTROPY_FORWARD);
        add(calls, Op.CROSS_ENTROPY_BACKWARD, Op.MATMUL_BACKWARD_INPUT_PARTS, Op.SUM_PARTS, Op.SCATTER_ADD_ROWS);
        add(calls, Op.ZERO, Op.RMS_NORM_BACKWARD_INPUT, Op.RMS_NORM_BACKWARD_WEIGHTS);
        for (int l = k - 1; l >= 0; l--) {
            add(calls, Op.MATMUL_BACKWARD_INPUT_PARTS, Op.SUM_PARTS, Op.MATMUL_BACKWARD_WEIGHTS, Op.SWIGLU_BACKWARD);
            add(calls, Op.MATMUL_BACKWARD_WEIGHTS, Op.RMS_NORM_BACKWARD_INPUT, Op.RMS_NORM_BACKWARD_WEIGHTS);
            add(calls, Op.MATMUL_BACKWARD_WEIGHTS, Op.ATTENTION_BACKWARD_SCORES, Op.ATTENTION_BACKWARD_QUERY);
            add(calls, Op.ATTENTION_BACKWARD_KEY_VALUE, Op.ROPE, Op.MATMUL_BACKWARD_INPUT_REGISTERS);
            add(calls, Op.MATMUL_BACKWARD_WEIGHTS, Op.RMS_NORM_BACKWARD_INPUT, Op.RMS_NORM_BACKWARD_WEIGHTS);
        }
        add(calls, Op.EMBEDDING_BACKWARD);
        if (withAdamW) add(calls, Op.ADAMW_OUTER_PRODUCT, Op.ADAMW);
        return calls;
    }

    private static List<Segment> segments(List<Call> calls) {
        List<List<Call>> runs = Segment.cut(calls);
        runs.forEach(run -> assertTrue(run.size() <= Segment.MAX_CALLS, "a run of " + run.size() + " calls"));
        assertEquals(calls, runs.stream().flatMap(List::stream).toList(), "the runs hold every call, in order");
        return runs.stream().map(Segment::of).toList();
    }

    private static Op last(Segment segment) {
        return segment.ops().getLast();
    }

    @Test
    void aStepEndsWithTheFirstBlocksBackwardTheEmbeddingsAndTheOptimiserInOneRun() {
        List<Segment> step = segments(step(K, true));
        // k forward runs (the first with the embeddings), the head's with the last block's backward, k - 1 backward.
        assertEquals(2 * K, step.size(), step.toString());
        List<Op> end = step.getLast().ops();
        assertEquals(
                List.of(Op.EMBEDDING_BACKWARD, Op.ADAMW_OUTER_PRODUCT, Op.ADAMW),
                end.subList(end.size() - 3, end.size()),
                "the first block's backward run ends the step");
        assertTrue(end.contains(Op.ATTENTION_BACKWARD_KEY_VALUE), "the first block's backward is in that run");
        // The blocks between the last and the first repeat one backward segment, so one graph serves them.
        for (int r = K + 2; r < 2 * K - 1; r++) assertEquals(step.get(K + 1), step.get(r), "block backward " + r);
        assertEquals(Op.RMS_NORM_BACKWARD_WEIGHTS, last(step.get(K + 1)), "a middle block's backward run ends there");
    }

    @Test
    void aStepWhoseLossIsReadBeforeTheOptimiserKeepsItsRunsAndRunsAdamWAlone() {
        List<Segment> first = segments(step(K, false));
        assertEquals(Op.EMBEDDING_BACKWARD, last(first.getLast()), "the embeddings' backward ends the last run");
        List<Call> next = new ArrayList<>();
        add(next, Op.ADAMW_OUTER_PRODUCT, Op.ADAMW);
        next.addAll(step(K, false));
        List<Segment> second = segments(next);
        assertEquals(List.of(Op.ADAMW_OUTER_PRODUCT), second.get(0).ops(), "an AdamW call at a flush's start");
        assertEquals(List.of(Op.ADAMW), second.get(1).ops(), "runs alone, in its kernel's own graph");
        assertEquals(first, second.subList(2, second.size()), "the step's runs are the first step's segments");
    }

    @Test
    void theOptimisersRunEndsWhereTheNextForwardPassBegins() {
        List<Call> two = new ArrayList<>(step(K, true));
        two.addAll(step(K, true));
        List<Segment> one = segments(step(K, true));
        List<Segment> both = segments(two);
        assertEquals(one, both.subList(0, one.size()), "the first step's runs");
        assertEquals(one, both.subList(one.size(), both.size()), "the second step's runs, the same segments");
    }

    @Test
    void aOneBlockModelsStepIsTwoRuns() {
        List<Segment> step = segments(step(1, true));
        assertEquals(2, step.size(), "the block's forward with the embeddings, then everything from its MLP on");
        assertEquals(Op.ADAMW, last(step.get(1)));
    }
}
