package slim.nn.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Splits a loop over independent items across the cores. A step calls this a few hundred times for
 * kernels of a millisecond or less, so the hand-off must cost microseconds: the workers are started
 * once, spin briefly after each loop so the next one finds them awake, and then park. Items are
 * claimed in chunks from a shared counter, so a core that another process holds takes fewer chunks
 * instead of stalling the join. Small loops run on the calling thread.
 */
public final class Parallel {
    /** Below this much work (in multiply-adds) a loop is not worth splitting. */
    private static final long MIN_WORK = 1 << 15;
    /** Chunks per thread: enough for the counter to even out a busy core, few enough to stay cheap. */
    private static final int CHUNKS_PER_THREAD = 4;
    /** How long an idle worker spins for the next loop before parking (a step's kernels come back to back). */
    private static final long SPIN_NANOS = 200_000;

    private static final int THREADS =
            Math.max(1, Integer.getInteger("slim.threads", Runtime.getRuntime().availableProcessors()));
    private static final Worker[] WORKERS = new Worker[THREADS - 1];
    /** One loop runs on the workers at a time; a loop that finds them busy (nested or concurrent) runs inline. */
    private static final AtomicBoolean BUSY = new AtomicBoolean();

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker();
            Thread thread =
                    Thread.ofPlatform().daemon().name("slim-kernels-" + (i + 1)).unstarted(WORKERS[i]);
            WORKERS[i].thread = thread;
            thread.start();
        }
    }

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    /** Runs body(i) for i in [0, n); workPerItem estimates each item's cost to decide whether to split. */
    public static void forEach(int n, long workPerItem, IntConsumer body) {
        forRanges(n, workPerItem, (from, to) -> {
            for (int i = from; i < to; i++) body.accept(i);
        });
    }

    /** A loop body over [from, to): element-wise kernels keep their inner loop in one compiled method. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /** Runs body over consecutive ranges covering [0, n), split like forEach. */
    public static void forRanges(int n, long workPerItem, Range body) {
        int chunks = (int) Math.min(
                n, Math.max(1, Math.min((long) THREADS * CHUNKS_PER_THREAD, n * workPerItem / MIN_WORK)));
        if (chunks <= 1 || !BUSY.compareAndSet(false, true)) {
            body.run(0, n);
            return;
        }
        try {
            Job job = new Job(body, n, chunks);
            for (Worker w : WORKERS) w.give(job);
            job.work();
            job.await();
        } finally {
            BUSY.set(false);
        }
    }

    /** One loop: chunks are claimed from next; done counts finished ones (its increments publish their writes). */
    private static final class Job {
        private final Range body;
        private final int n, chunks;
        private final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        private volatile Throwable failure;

        Job(Range body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    // Sizes differ by at most one item, and none is empty (chunks <= n).
                    body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        void await() {
            for (int spins = 0; done.get() < chunks; spins++) {
                if (spins < 1 << 12) Thread.onSpinWait();
                else Thread.yield(); // the worker was descheduled: let it have this core
            }
            Throwable t = failure;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    private static final class Worker implements Runnable {
        private Thread thread;
        private volatile Job job;
        private volatile boolean parked;

        void give(Job next) {
            job = next;
            if (parked) LockSupport.unpark(thread);
        }

        @Override
        public void run() {
            Job last = null;
            while (true) {
                Job current = job;
                if (current != last) {
                    current.work();
                    last = current;
                    continue;
                }
                long until = System.nanoTime() + SPIN_NANOS;
                while ((current = job) == last && System.nanoTime() < until) Thread.onSpinWait();
                if (current != last) continue;
                parked = true;
                if (job == last) LockSupport.park(this);
                parked = false;
            }
        }
    }
}
