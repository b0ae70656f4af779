package slim.experiments;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import slim.nn.SlimException;

/**
 * Claims on a grid's cells that hold across processes and machines sharing one results folder, so two
 * tasks never run the same cell: a claim is a file {@code .claims/CELL.claim-G} created atomically
 * (CREATE_NEW, which shared file systems keep atomic), holding who made it (host, pid, Slurm job); its
 * modification time is the heartbeat, touched every minute while the cell runs, so that it is
 * updated without rewriting what other processes may be reading.
 *
 * <p>A claim is released (deleted) when its cell is done and, through a shutdown hook, when the JVM
 * is stopped (Slurm's scancel, requeue and timeout send SIGTERM first). A claim whose owner died
 * without releasing it is expired: at once when the owner was an earlier run of this Slurm job (a
 * requeued task: Slurm never runs a job twice at once) or a process of this host that is gone, else
 * when its heartbeat is older than the timeout. An expired claim is never deleted and re-created
 * in place, which two processes could both do; the next generation G+1 is created instead, and only
 * one creator of a name succeeds.
 */
public final class CellClaims implements AutoCloseable {
    static final Duration HEARTBEAT = Duration.ofMinutes(1);
    static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final String SUFFIX = ".claim-";

    /**
     * Who holds a claim.
     *
     * @param processStart when the process started (tells a live pid from a reused one)
     * @param slurmJob     SLURM_JOB_ID (one per array task, kept across requeues), or null
     * @param slurmRestart SLURM_RESTART_COUNT: how often Slurm requeued the job
     * @param slurmTask    "arrayjob_task" of a job-array task, or null
     */
    public record Owner(
            String host,
            long pid,
            String processStart,
            String slurmJob,
            int slurmRestart,
            String slurmTask,
            String claimedAt) {

        /** This process, with its Slurm identity when it runs as a Slurm job. */
        public static Owner current() {
            ProcessHandle self = ProcessHandle.current();
            Map<String, String> env = System.getenv();
            String array = env.get("SLURM_ARRAY_JOB_ID");
            return new Owner(
                    hostName(),
                    self.pid(),
                    self.info().startInstant().map(Instant::toString).orElse(null),
                    env.get("SLURM_JOB_ID"),
                    Integer.parseInt(env.getOrDefault("SLURM_RESTART_COUNT", "0")),
                    array == null ? null : array + "_" + env.get("SLURM_ARRAY_TASK_ID"),
                    null);
        }

        /** The owner as a claim made now records it. */
        Owner claimingNow() {
            return new Owner(
                    host,
                    pid,
                    processStart,
                    slurmJob,
                    slurmRestart,
                    slurmTask,
                    Instant.now().toString());
        }

        /** Whether the owner is an earlier run of this Slurm job, which Slurm stopped before this run began. */
        boolean earlierRunOf(Owner me) {
            return slurmJob != null && slurmJob.equals(me.slurmJob) && slurmRestart < me.slurmRestart;
        }

        /** On this host: whether that process still runs (the same pid started at the same time). */
        boolean runsOn(Owner me) {
            if (!host.equals(me.host)) return true; // cannot see it: only the heartbeat tells
            return ProcessHandle.of(pid)
                    .map(h -> processStart == null
                            || h.info()
                                    .startInstant()
                                    .map(Instant::toString)
                                    .map(processStart::equals)
                                    .orElse(true))
                    .orElse(false);
        }

        @Override
        public String toString() {
            String job = slurmTask != null ? slurmTask : slurmJob;
            return host + " pid " + pid + (job == null ? "" : ", Slurm job " + job);
        }
    }

    /** A claim this process holds; closing releases it. */
    public final class Claim implements AutoCloseable {
        private final Path file;

        private Claim(Path file) {
            this.file = file;
        }

        @Override
        public void close() {
            held.remove(this);
            delete(file);
        }
    }

    private final Path dir;
    private final Owner me;
    private final Duration timeout;
    private final Set<Claim> held = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService heartbeat;
    private final Thread releaseOnExit = new Thread(this::releaseAll, "slim-release-claims");

    CellClaims(Path dir, Owner me, Duration heartbeatEvery, Duration timeout) {
        this.dir = dir;
        this.me = me;
        this.timeout = timeout;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new SlimException(dir + ": cannot create the claims folder: " + e.getMessage(), e);
        }
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "slim-claim-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long every = heartbeatEvery.toMillis();
        heartbeat.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
        Runtime.getRuntime().addShutdownHook(releaseOnExit);
    }

    /** The claims of the grid writing into outDir, as this process. */
    public static CellClaims in(Path outDir) {
        return new CellClaims(outDir.resolve(".claims"), Owner.current(), HEARTBEAT, TIMEOUT);
    }

    /** Claims the cell; null when a live process holds it. */
    public Claim claim(String cell) {
        for (int attempt = 0; attempt < 100; attempt++) {
            List<Path> generations = generations(cell);
            Path top = generations.isEmpty() ? null : generations.getLast();
            if (top != null && live(top)) return null;
            Path next = dir.resolve(cell + SUFFIX + (top == null ? 0 : generation(top) + 1));
            try (OutputStream out = Files.newOutputStream(next, StandardOpenOption.CREATE_NEW)) {
                out.write(ResultFiles.JSON.writeValueAsBytes(me.claimingNow()));
            } catch (FileAlreadyExistsException e) {
                continue; // another process took this generation first: look again
            } catch (IOException e) {
                throw new SlimException(next + ": cannot claim the cell: " + e.getMessage(), e);
            }
            generations.forEach(CellClaims::delete); // expired claims this one replaces
            Claim claim = new Claim(next);
            held.add(claim);
            return claim;
        }
        throw new SlimException(dir + ": could not claim " + cell + ": its claim files keep changing");
    }

    /** Who holds the cell, for a log line; "nobody" when no claim is live. */
    public String holder(String cell) {
        List<Path> generations = generations(cell);
        if (generations.isEmpty() || !live(generations.getLast())) return "nobody";
        Owner owner = owner(generations.getLast());
        return owner == null ? "a process that is writing its claim" : owner.toString();
    }

    /**
     * The cells of outDir's grid that a live process runs now, each with who runs it, as this process sees
     * them; reads the claims and writes nothing (for {@code slim grid --status}).
     */
    public static Map<String, String> running(Path outDir) {
        Path dir = outDir.resolve(".claims");
        Map<String, String> running = new TreeMap<>();
        if (!Files.isDirectory(dir)) return running;
        Owner me = Owner.current();
        Map<String, Path> newest = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> {
                String name = f.getFileName().toString();
                int at = name.lastIndexOf(SUFFIX);
                if (at > 0 && isGeneration(f, name.substring(0, at))) {
                    newest.merge(name.substring(0, at), f, (a, b) -> generation(a) > generation(b) ? a : b);
                }
            });
        } catch (IOException e) {
            throw new SlimException(dir + ": cannot list the claims: " + e.getMessage(), e);
        }
        newest.forEach((cell, claim) -> {
            if (live(claim, me, TIMEOUT)) {
                Owner owner = owner(claim);
                running.put(cell, owner == null ? "a process that is writing its claim" : owner.toString());
            }
        });
        return running;
    }

    /** Whether a claim file stands for a running owner. */
    boolean live(Path claim) {
        return live(claim, me, timeout);
    }

    private static boolean live(Path claim, Owner me, Duration timeout) {
        FileTime beat;
        try {
            beat = Files.getLastModifiedTime(claim);
        } catch (NoSuchFileException e) {
            return false; // released meanwhile
        } catch (IOException e) {
            throw new SlimException(claim + ": cannot read the claim: " + e.getMessage(), e);
        }
        Owner owner = owner(claim);
        if (owner != null && (owner.earlierRunOf(me) || !owner.runsOn(me))) return false;
        return Duration.between(beat.toInstant(), Instant.now()).compareTo(timeout) < 0;
    }

    /** The claim's owner; null while its creator is still writing it, or when it is not a claim. */
    private static Owner owner(Path claim) {
        try {
            return ResultFiles.JSON.readValue(Files.readAllBytes(claim), Owner.class);
        } catch (IOException e) {
            return null; // judged by its heartbeat alone
        }
    }

    private List<Path> generations(String cell) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> isGeneration(f, cell))
                    .sorted(Comparator.comparingLong(CellClaims::generation))
                    .toList();
        } catch (IOException e) {
            throw new SlimException(dir + ": cannot list the claims: " + e.getMessage(), e);
        }
    }

    private static boolean isGeneration(Path f, String cell) {
        String name = f.getFileName().toString();
        return name.startsWith(cell + SUFFIX)
                && name.substring(cell.length() + SUFFIX.length()).matches("\\d{1,18}");
    }

    private static long generation(Path f) {
        String name = f.getFileName().toString();
        return Long.parseLong(name.substring(name.lastIndexOf(SUFFIX) + SUFFIX.length()));
    }

    private void beat() {
        FileTime now = FileTime.from(Instant.now());
        for (Claim c : held) {
            try {
                Files.setLastModifiedTime(c.file, now);
            } catch (IOException e) {
                System.err.println(c.file + ": cannot renew the claim (" + e.getMessage() + "); once it is "
                        + timeout.toMinutes() + " minutes old another task may run the cell too");
            }
        }
    }

    private void releaseAll() {
        for (Claim c : held) c.close();
    }

    private static void delete(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            throw new SlimException(f + ": cannot delete the claim: " + e.getMessage(), e);
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown-host";
        }
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        releaseAll();
        try {
            Runtime.getRuntime().removeShutdownHook(releaseOnExit);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook is running or ran
        }
    }
}
