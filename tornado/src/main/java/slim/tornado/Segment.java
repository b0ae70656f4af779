package slim.tornado;

import java.util.List;

/**
 * A run of calls between two host reads, as tasks: the calls it was first recorded with (their
 * kernels and buffers), and how much room each task has for its parameters. Index lists grow with
 * the sequence length, so their tasks get room to spare; a longer one rebuilds the segment.
 */
final class Segment {
    final List<Call> calls;
    final int[] intRoom;

    /** Room for these calls, and at least as much as the segment it replaces had. */
    Segment(List<Call> recorded, Segment previous) {
        calls = List.copyOf(recorded);
        intRoom = new int[calls.size()];
        for (int i = 0; i < intRoom.length; i++) {
            int need = calls.get(i).ints().length;
            int room = calls.get(i).op().variableInts ? Math.max(2 * need, need + 256) : need;
            intRoom[i] = previous == null ? room : Math.max(room, previous.intRoom[i]);
        }
    }

    boolean fits(List<Call> recorded) {
        for (int i = 0; i < intRoom.length; i++) {
            if (recorded.get(i).ints().length > intRoom[i]) return false;
        }
        return true;
    }
}
