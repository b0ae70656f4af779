package slim.experiments;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import slim.nn.SlimException;

/**
 * The accuracies the study reports (../shared/paper/tables.csv), for reports on the paper's own
 * models: GPT2-XL (a 48-layer gpt2 of hidden size 1600) and OPT-1.3b (a 24-layer opt of 2048).
 */
public record PaperTables(List<Row> rows) {

    /** One row of a table: accuracies in %, in Report.TASKS order, then the average. */
    public record Row(String setting, String model, int layers, String params, double[] accuracies, double average) {}

    /** The paper's name for a model of this shape, or null when the study did not run it. */
    public static String paperModel(String modelType, int layers, int hidden) {
        if ("gpt2".equals(modelType) && layers == 48 && hidden == 1600) return "GPT2-XL";
        if ("opt".equals(modelType) && layers == 24 && hidden == 2048) return "OPT-1.3b";
        return null;
    }

    public static PaperTables read(Path file) {
        List<Row> rows = new ArrayList<>();
        try (Reader in = Files.newBufferedReader(file)) {
            for (CSVRecord r : CSVFormat.DEFAULT
                    .builder()
                    .setHeader()
                    .setSkipHeaderRecord(true)
                    .get()
                    .parse(in)) {
                double[] acc = new double[Report.TASKS.size()];
                for (int t = 0; t < acc.length; t++) acc[t] = Double.parseDouble(r.get(Report.TASK_NAMES.get(t)));
                rows.add(new Row(
                        r.get("setting"),
                        r.get("model"),
                        Integer.parseInt(r.get("layers")),
                        r.get("params"),
                        acc,
                        Double.parseDouble(r.get("Average"))));
            }
        } catch (IOException | RuntimeException e) {
            throw new SlimException(
                    file + ": not the paper's tables (setting,model,layers,params,AGNews,EmoC,SST-2,TREC,Average): "
                            + e.getMessage(),
                    e);
        }
        return new PaperTables(List.copyOf(rows));
    }

    public List<Row> of(String setting, String model) {
        return rows.stream()
                .filter(r -> r.setting().equals(setting) && r.model().equals(model))
                .toList();
    }
}
