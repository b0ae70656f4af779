package slim.experiments.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import slim.nn.SlimException;
import slim.nn.io.AtomicFile;

/**
 * The Slurm job-array script for a grid, and the script that reports it once the array is done. Both
 * start the JVM as this slim was started (its JDK, its JVM flags, its jar copied once into the results
 * folder), with absolute paths only, so they run from any directory of any node that sees the folder,
 * and rebuilding slim while the array runs changes nothing (array tasks calling ./slim would race to
 * rebuild the jar on a shared file system).
 *
 * @param launch  how to start slim
 * @param grid    the grid's arguments, paths absolute, without --shard
 * @param shards  the array's size
 * @param out     the results folder
 * @param options the user's #SBATCH options (partition, time, --gres=gpu:1, account)
 */
record SlurmScript(Launch launch, List<List<String>> grid, int shards, Path out, List<String> options) {

    /** Options a report does not need: it reads JSON files and draws a figure. */
    private static final List<String> DEVICE_OPTIONS = List.of("--gres", "--gpus", "-G");

    SlurmScript {
        for (String o : options) {
            if (!o.startsWith("-") || o.contains("\n")) {
                throw new SlimException("--slurm-option '" + o + "': expected one sbatch option, e.g. --partition=gpu"
                        + " or --gres=gpu:1");
            }
        }
    }

    /**
     * How to start slim's JVM.
     *
     * @param java      the java launcher
     * @param flags     JVM flags
     * @param classPath jars; one is started with -jar (its manifest names the main class)
     * @param env       environment variables slim reads
     */
    record Launch(Path java, List<String> flags, List<Path> classPath, Map<String, String> env) {

        /** This JVM's launch, its jars copied into jarDir under names that carry their content's hash. */
        static Launch current(Path jarDir) {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                throw new SlimException("this JVM was started without slim's flags (--add-modules"
                        + " jdk.incubator.vector ...): write the script through ./slim, whose JVM flags it copies");
            }
            List<Path> jars = new ArrayList<>();
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                Path jar = Path.of(entry).toAbsolutePath();
                if (!Files.isRegularFile(jar)) {
                    throw new SlimException(jar + ": slim runs from classes, not a jar; write the script through"
                            + " ./slim, which builds experiments/target/slim.jar");
                }
                jars.add(copy(jar, jarDir));
            }
            Map<String, String> env = new LinkedHashMap<>();
            for (String name : List.of("DJL_OFFLINE", "SLIM_SHARED")) {
                if (System.getenv(name) != null) env.put(name, System.getenv(name));
            }
            return new Launch(
                    Path.of(System.getProperty("java.home"), "bin", "java"),
                    ManagementFactory.getRuntimeMXBean().getInputArguments(),
                    jars,
                    env);
        }

        /** The jar copied into dir as NAME-HASH.jar, once: a later build gets a name of its own. */
        static Path copy(Path jar, Path dir) {
            String name = jar.getFileName().toString().replaceFirst("\\.jar$", "");
            Path target = dir.resolve(name + "-" + sha256(jar).substring(0, 12) + ".jar");
            if (Files.isRegularFile(target)) return target;
            AtomicFile.write(target, tmp -> Files.copy(jar, tmp));
            return target;
        }

        private static String sha256(Path file) {
            try {
                MessageDigest digest = MessageDigest.getInstance("SHA-256");
                try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
                return HexFormat.of().formatHex(digest.digest());
            } catch (IOException e) {
                throw new SlimException(file + ": cannot read: " + e.getMessage(), e);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }

        /** The command's lines: java, one flag a line, the jar, then the given lines. */
        List<List<String>> command(List<List<String>> args) {
            List<List<String>> lines = new ArrayList<>();
            lines.add(List.of(java.toString()));
            flags.forEach(f -> lines.add(List.of(f)));
            if (classPath.size() == 1) {
                lines.add(List.of("-jar", classPath.getFirst().toString()));
            } else {
                String cp = classPath.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
                lines.add(List.of("-cp", cp, Main.class.getName()));
            }
            lines.addAll(args);
            return lines;
        }
    }

    /** Where the tasks' logs go: one file per task, appended to when Slurm requeues it. */
    Path logs() {
        return out.resolve("logs");
    }

    /** The job-array script; reportScript is the file of {@link #reportScript()}. */
    String arrayScript(Path file, Path reportScript) {
        List<List<String>> args = new ArrayList<>();
        args.add(List.of("grid"));
        args.addAll(grid);
        StringBuilder s = new StringBuilder();
        s.append("#!/bin/bash\n");
        s.append("# slim grid as a Slurm job array: ").append(shards).append(" tasks, each running its shard\n");
        s.append("# (of about equal estimated cost) of the grid into ")
                .append(out)
                .append(".\n");
        s.append("# Written by `slim grid --slurm`. It runs a copy of slim's jar made then, on the JDK and\n");
        s.append("# with the JVM flags slim ran with, so it runs from any directory and later builds of slim\n");
        s.append("# do not change it.\n");
        s.append("#\n");
        s.append("#   submit: jid=$(sbatch --parsable ").append(file).append(") && \\\n");
        s.append("#             sbatch --dependency=afterok:${jid%%;*} ")
                .append(reportScript)
                .append('\n');
        s.append("#   resume: submit it again (cells with a result are skipped), or one task: sbatch --array=2 ")
                .append(file)
                .append('\n');
        s.append("#   logs:   ").append(logs()).append("/grid-ARRAYJOB_TASK.log\n");
        s.append("# A task that is cancelled, preempted or requeued redoes at most the cell it was in; a cell is\n");
        s.append("# claimed (").append(out.resolve(".claims")).append(") before it runs, so no two tasks run it.\n");
        s.append("#SBATCH --job-name=slim-grid\n");
        s.append("#SBATCH --array=0-").append(shards - 1).append('\n');
        s.append("#SBATCH --output=").append(logs()).append("/grid-%A_%a.log\n");
        s.append("#SBATCH --open-mode=append\n");
        s.append("#SBATCH --requeue\n");
        options.forEach(o -> s.append("#SBATCH ").append(o).append('\n'));
        List<List<String>> command = launch.command(args);
        return s.append(body(command, "--shard \"$SLURM_ARRAY_TASK_ID/" + shards + "\""))
                .toString();
    }

    /** The script that writes the report once every task is done. */
    String reportScript(Path arrayScript) {
        StringBuilder s = new StringBuilder();
        s.append("#!/bin/bash\n");
        s.append("# slim report of the grid that ").append(arrayScript).append(" runs: tables and Figure 2 from\n");
        s.append("# ")
                .append(out)
                .append(" into ")
                .append(out.resolve("report"))
                .append(".\n");
        s.append("# Submit it with --dependency=afterok:ARRAYJOB (see ")
                .append(arrayScript.getFileName())
                .append(").\n");
        s.append("#SBATCH --job-name=slim-report\n");
        s.append("#SBATCH --output=").append(logs()).append("/report-%j.log\n");
        options.stream()
                .filter(o -> DEVICE_OPTIONS.stream().noneMatch(o::startsWith))
                .forEach(o -> s.append("#SBATCH ").append(o).append('\n'));
        return s.append(body(launch.command(List.of(List.of("report", out.toString()))), null))
                .toString();
    }

    private String body(List<List<String>> command, String last) {
        StringBuilder s = new StringBuilder("set -euo pipefail\n");
        launch.env()
                .forEach((k, v) -> s.append("export ")
                        .append(k)
                        .append('=')
                        .append(quote(v))
                        .append('\n'));
        List<String> lines = new ArrayList<>();
        for (List<String> words : command) {
            lines.add(words.stream().map(SlurmScript::quote).collect(Collectors.joining(" ")));
        }
        if (last != null) lines.add(last);
        return s.append("exec ")
                .append(String.join(" \\\n    ", lines))
                .append('\n')
                .toString();
    }

    /** The word as the shell reads it back unchanged: in single quotes unless it is plain. */
    static String quote(String word) {
        if (word.matches("[A-Za-z0-9_@%+=:,./-]+")) return word;
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
