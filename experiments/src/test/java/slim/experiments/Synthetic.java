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
        return Result.of(cell, Protocol.study(), null, Result.RunInfo.since(null), prompts, curves, costs, null, null);
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
}
