package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Claims that hold across processes: one winner per cell, expiry of dead owners, and release. */
class CellClaimsTest {
    static final Duration BEAT = Duration.ofHours(1), TIMEOUT = Duration.ofMinutes(10);

    @TempDir
    Path dir;

    /** A process on another machine: only its heartbeat tells whether it lives. */
    static CellClaims.Owner remote(String host, String slurmJob, int restart) {
        String task = slurmJob == null ? null : slurmJob + "_0";
        return new CellClaims.Owner(host, 4242, null, slurmJob, restart, task, null);
    }

    CellClaims claims(CellClaims.Owner owner) {
        return new CellClaims(dir, owner, BEAT, TIMEOUT);
    }

    @Test
    void aLiveClaimKeepsOthersOutUntilReleased() {
        try (CellClaims a = claims(remote("node-a", null, 0));
                CellClaims b = claims(remote("node-b", null, 0))) {
            CellClaims.Claim held = a.claim("cell");
            assertNotNull(held);
            assertNull(b.claim("cell"), "node-b must not run a cell node-a runs");
            assertTrue(b.holder("cell").contains("node-a"), b.holder("cell"));
            assertNotNull(b.claim("other"), "other cells stay free");
            held.close();
            assertNotNull(b.claim("cell"), "a released claim is free");
        }
    }

    @Test
    void manyClaimantsRacingGetEachCellOnce() throws Exception {
        int claimants = 8, cells = 40;
        ConcurrentHashMap<String, Integer> winners = new ConcurrentHashMap<>();
        AtomicInteger won = new AtomicInteger();
        List<CellClaims> all = new ArrayList<>();
        for (int i = 0; i < claimants; i++) all.add(claims(remote("node-" + i, null, 0)));
        ExecutorService pool = Executors.newFixedThreadPool(claimants);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < claimants; i++) {
                CellClaims mine = all.get(i);
                int me = i;
                done.add(pool.submit(() -> {
                    for (int c = 0; c < cells; c++) {
                        if (mine.claim("cell" + c) != null) {
                            won.incrementAndGet();
                            assertNull(winners.put("cell" + c, me), "cell" + c + " claimed twice");
                        }
                    }
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
            all.forEach(CellClaims::close);
        }
        assertEquals(cells, won.get());
        assertEquals(cells, winners.size());
    }

    @Test
    void aClaimWhoseHeartbeatStoppedIsTakenOverByTheNextGeneration() throws Exception {
        try (CellClaims crashed = claims(remote("node-a", null, 0));
                CellClaims b = claims(remote("node-b", null, 0))) {
            assertNotNull(crashed.claim("cell"));
            Path first = dir.resolve("cell.claim-0");
            Files.setLastModifiedTime(
                    first, FileTime.from(Instant.now().minus(TIMEOUT).minusSeconds(1)));
            assertNotNull(b.claim("cell"), "a claim older than the timeout is expired");
            assertFalse(Files.exists(first), "the expired claim is cleared");
            assertTrue(Files.readString(dir.resolve("cell.claim-1")).contains("node-b"));
            assertNull(claims(remote("node-c", null, 0)).claim("cell"), "the new claim is live");
        }
    }

    @Test
    void aRequeuedSlurmTaskTakesBackItsOwnCellAtOnce() {
        try (CellClaims firstRun = claims(remote("node-a", "17", 0));
                CellClaims requeued = claims(remote("node-b", "17", 1));
                CellClaims otherJob = claims(remote("node-c", "18", 0))) {
            assertNotNull(firstRun.claim("cell"));
            assertNull(otherJob.claim("cell"), "another job waits for the heartbeat to stop");
            assertNotNull(requeued.claim("cell"), "Slurm stopped run 0 of job 17 before run 1 began");
        }
    }

    @Test
    void aClaimOfAGoneProcessOnThisHostIsExpiredAtOnce() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        CellClaims.Owner here = CellClaims.Owner.current();
        CellClaims.Owner dead = new CellClaims.Owner(here.host(), gone.pid(), null, null, 0, null, null);
        try (CellClaims deadClaims = claims(dead);
                CellClaims mine = claims(here)) {
            assertNotNull(deadClaims.claim("cell"));
            assertNotNull(mine.claim("cell"), "pid " + gone.pid() + " has exited");
            assertNull(claims(remote("node-b", null, 0)).claim("cell"), "this live process's claim holds");
        }
    }

    @Test
    void aClaimStillBeingWrittenCountsByItsHeartbeat() throws Exception {
        Files.writeString(dir.resolve("cell.claim-0"), "{\"host\": \"node-a\", \"p");
        try (CellClaims b = claims(remote("node-b", null, 0))) {
            assertNull(b.claim("cell"), "a fresh claim without a readable owner is live");
            FileTime anHourAgo = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
            Files.setLastModifiedTime(dir.resolve("cell.claim-0"), anHourAgo);
            assertNotNull(b.claim("cell"));
        }
    }

    @Test
    void closingReleasesEveryClaimHeld() throws Exception {
        CellClaims a = claims(remote("node-a", null, 0));
        assertNotNull(a.claim("x"));
        assertNotNull(a.claim("y"));
        a.close();
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void theHeartbeatRenewsHeldClaims() throws Exception {
        try (CellClaims a = new CellClaims(dir, remote("node-a", null, 0), Duration.ofMillis(20), TIMEOUT)) {
            assertNotNull(a.claim("cell"));
            Path file = dir.resolve("cell.claim-0");
            FileTime old = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
            Files.setLastModifiedTime(file, old);
            for (int i = 0; i < 200 && Files.getLastModifiedTime(file).equals(old); i++) Thread.sleep(10);
            assertTrue(Files.getLastModifiedTime(file).compareTo(old) > 0, "the heartbeat touched the claim");
        }
    }
}
