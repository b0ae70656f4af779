package slim.experiments.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import slim.experiments.PaperTables;
import slim.experiments.Report;
import slim.experiments.ResultFiles;
import slim.nn.Shared;
import slim.nn.SlimException;

/** `slim report DIR`: the paper's tables (Markdown, CSV) and Figure 2 (PNG) from a folder of results. */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description = {
            "Write the paper's tables and Figure 2 from a folder of results.",
            "Tables in the paper's layout (one per setting; per model, rows are kept layers; mean ± std over"
                    + " seeds) as Markdown, the same numbers in tidy form as CSV (one row per model, pooling, k,"
                    + " setting and task), and Figure 2 (average accuracy against kept layers, error bars the std"
                    + " over seeds) as PNG and SVG."
        })
final class ReportCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "folder of result files (searched recursively)")
    Path dir;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "where tables.md, tables.csv, figure2.png and figure2.svg go (default: DIR/report)")
    Path out;

    @Option(
            names = "--paper",
            paramLabel = "FILE",
            description = "the paper's numbers, shown beside GPT2-XL / OPT-1.3b results (default:"
                    + " ../shared/paper/tables.csv)")
    Path paper;

    @Option(
            names = "--skip-bad",
            description = "leave out JSON files that are not slim results (damaged, cut short, another"
                    + " tool's) instead of stopping at the first; the report says which it left out")
    boolean skipBad;

    @Override
    public Integer call() {
        List<String> skipped = new ArrayList<>();
        Report report = Report.of(ResultFiles.readAll(dir, skipBad, skipped), paperTables(paper));
        if (!skipped.isEmpty()) {
            System.err.println("left out " + skipped.size() + " files that are not slim results:\n  "
                    + String.join("\n  ", skipped));
        }
        Path where = out != null ? out : dir.resolve("report");
        Path png = report.write(where);
        System.out.print(report.markdown());
        System.out.println();
        System.out.println("Written: " + where.resolve("tables.md") + ", " + where.resolve("tables.csv") + ", " + png);
        return 0;
    }

    /** The given file; else the shared copy when there is one; else none (the report then has no paper rows). */
    static PaperTables paperTables(Path given) {
        if (given != null) return PaperTables.read(given);
        try {
            Path shared = Shared.resolve("paper", "tables.csv");
            return Files.isRegularFile(shared) ? PaperTables.read(shared) : null;
        } catch (SlimException e) {
            return null;
        }
    }
}
