package slim.experiments;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/** Result records made up for tests of the grid and the report. */
final class Synthetic {
    private Synthetic() {}

    static Result result(
            String model,
            String type,
            int layers,
            int hidden,
            int keep,
            String task,
            String setting,
            int seed,
            double accuracy) {
        List<Integer> first = IntStream.range(0, keep).boxed().toList();
        return result(model, type, layers, hidden, "first", first, task, setting, seed, accuracy);
    }

    /** A result whose kept layers were chosen by selection. */
    static Result result(
            String model,
            String type,
            int layers,
            int hidden,
            String selection,
            List<Integer> kept,
            String task,
            String setting,
            int seed,
            double accuracy) {
        int keep = kept.size();
        var cell = new Result.CellInfo(
                "/models/" + model,
                model,
                type,
                layers,
                hidden,
                keep,
                selection,
                kept,
                task,
                setting,
                seed,
                setting.equals("lm-prompt") ? null : "last");
        var prompts = new Result.Prompts(Map.of("train", new int[] {1, 2}), null, null, 10, 0, 0, 1024);
        var curves = new Result.Curves(new double[] {accuracy}, new double[] {0.5}, 1, accuracy, false, accuracy, 0.5);
        var costs = new Result.Costs(1000L * keep + 100, 0, 1, 1, 0, 100, 1, 1);
        return Result.of(
                cell,
                Protocol.study(),
                origin(task),
                null,
                Result.RunInfo.since(null),
                prompts,
                curves,
                costs,
                null,
                null);
    }

    /** What every synthetic cell of a task is made from: one model, and the task's one pair of data files. */
    static Origin origin(String task) {
        return new Origin(
                "synthetic-model",
                Map.of(
                        "train", new Origin.DataFile("/data/" + task + "/train.csv", 1, "train-" + task),
                        "test", new Origin.DataFile("/data/" + task + "/test.csv", 1, "test-" + task)));
    }

    /** {@link #origin(String)} of the cell's task, as a grid's origins. */
    static Origin origin(Cell cell) {
        return origin(cell.task().id());
    }

    /** What a runner returns for a cell without training anything. */
    static Result of(Cell cell) {
        return result(
                cell.modelName(),
                "llama",
                3,
                32,
                cell.keep(),
                cell.task().id(),
                cell.setting().id(),
                cell.seed(),
                0.5);
    }

    /** The result as if made from origin (null: written before results recorded it, schema 2). */
    static Result withOrigin(Result r, Origin origin) {
        return new Result(
                origin == null ? 2 : r.schemaVersion(),
                r.cell(),
                r.protocol(),
                origin,
                r.status(),
                r.error(),
                r.run(),
                r.prompts(),
                r.curves(),
                r.costs(),
                r.layerScores(),
                r.predictions());
    }
}
