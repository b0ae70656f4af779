package slim.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kernels' thread pool: every item runs exactly once whatever the split, a failure on any thread
 * reaches the caller as thrown, and loops inside loops or from several threads at once finish. The
 * timeouts only turn a deadlock into a failure; nothing here measures speed. The build also runs this
 * with more workers than the machine's cores (-Dslim.threads in nn's pom).
 */
class ParallelTest {
    /** Work per item large enough that every loop here is split across the workers. */
    private static final long SPLIT = 1 << 20;

    private static final Duration DEADLOCK = Duration.ofSeconds(60);

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {1, 2, 3, 7, 8, 9, 31, 1000, 100_003})
    void rangesCoverEveryItemOnceInOrder(int n) {
        List<int[]> ranges = new ArrayList<>();
        Parallel.forRanges(n, SPLIT, (from, to) -> {
            synchronized (ranges) {
                ranges.add(new int[] {from, to});
            }
        });
        ranges.sort(Comparator.comparingInt(r -> r[0]));
        int next = 0;
        for (int[] r : ranges) {
            assertEquals(next, r[0], "ranges must be consecutive, without gaps or overlaps");
            assertTrue(r[1] > r[0], "no empty range: [" + r[0] + ", " + r[1] + ")");
            next = r[1];
        }
        assertEquals(n, next, "the ranges end at n");
        if (n > 1 && Parallel.threads() > 1) assertTrue(ranges.size() > 1, "a loop this big is split");
    }

    @Test
    void smallLoopsRunOnTheCallingThreadInOneRange() {
        List<Thread> threads = new ArrayList<>();
        Parallel.forRanges(100, 1, (from, to) -> {
            assertEquals(0, from);
            assertEquals(100, to);
            threads.add(Thread.currentThread());
        });
        assertEquals(List.of(Thread.currentThread()), threads);
    }

    @Test
    void manyShortLoopsRunEveryItemExactlyOnce() {
        int loops = 20_000, n = 13;
        AtomicIntegerArray runs = new AtomicIntegerArray(loops * n);
        assertTimeoutPreemptively(DEADLOCK, () -> {
            for (int loop = 0; loop < loops; loop++) {
                int base = loop * n;
                Parallel.forEach(n, SPLIT, i -> runs.incrementAndGet(base + i));
            }
        });
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "item " + i % n + " of loop " + i / n);
    }

    @Test
    void nestedLoopsFinishAndRunEveryItemOnce() {
        int outer = 40, inner = 50;
        AtomicIntegerArray runs = new AtomicIntegerArray(outer * inner * inner);
        assertTimeoutPreemptively(
                DEADLOCK,
                () -> Parallel.forEach(
                        outer,
                        SPLIT,
                        o -> Parallel.forEach(
                                inner,
                                SPLIT,
                                i -> Parallel.forEach(
                                        inner, SPLIT, j -> runs.incrementAndGet((o * inner + i) * inner + j)))));
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "item " + i);
    }

    @Test
    void loopsFromSeveralThreadsAtOnceAllFinish() throws InterruptedException {
        int callers = 4, loops = 2_000, n = 16;
        AtomicIntegerArray runs = new AtomicIntegerArray(callers * loops * n);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            int caller = c;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int loop = 0; loop < loops; loop++) {
                    int base = (caller * loops + loop) * n;
                    Parallel.forEach(n, SPLIT, i -> runs.incrementAndGet(base + i));
                }
            }));
        }
        for (Thread t : threads) assertTrue(t.join(DEADLOCK), "a caller is stuck: " + t);
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "item " + i);
    }

    @Test
    void aFailureIsThrownAsItIsWithItsCause() {
        IllegalStateException failure = new IllegalStateException("item 5", new IOException("the cause"));
        IllegalStateException thrown = assertThrows(
                IllegalStateException.class,
                () -> Parallel.forEach(1000, SPLIT, i -> {
                    if (i == 5) throw failure;
                }));
        assertSame(failure, thrown);
        assertEquals("the cause", thrown.getCause().getMessage());
        everyItemStillRuns();
    }

    @Test
    void aFailureOnAWorkerReachesTheCaller() {
        assumeTrue(Parallel.threads() > 1, "one thread: no workers");
        CountDownLatch workerFailed = new CountDownLatch(1);
        AssertionError failure = new AssertionError("on a worker");
        // The caller's chunks wait for a worker to fail, so the failure surely comes from another thread.
        AssertionError thrown = assertThrows(
                AssertionError.class,
                () -> assertTimeoutPreemptively(DEADLOCK, () -> {
                    Thread caller = Thread.currentThread();
                    Parallel.forRanges(1000, SPLIT, (from, to) -> {
                        if (Thread.currentThread() != caller) {
                            workerFailed.countDown();
                            throw failure;
                        }
                        try {
                            assertTrue(
                                    workerFailed.await(DEADLOCK.toSeconds(), TimeUnit.SECONDS),
                                    "no worker took a chunk");
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    });
                }));
        assertSame(failure, thrown);
        everyItemStillRuns();
    }

    /** After a failed loop the pool still runs the next one completely. */
    private static void everyItemStillRuns() {
        AtomicIntegerArray runs = new AtomicIntegerArray(1000);
        Parallel.forEach(1000, SPLIT, runs::incrementAndGet);
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "item " + i + " after a failure");
    }

    @Test
    void errorsAreNotWrapped() {
        StackOverflowError error = new StackOverflowError("deep");
        assertSame(
                error,
                assertThrows(
                        StackOverflowError.class,
                        () -> Parallel.forEach(64, SPLIT, i -> {
                            if (i == 63) throw error;
                        })));
    }
}
