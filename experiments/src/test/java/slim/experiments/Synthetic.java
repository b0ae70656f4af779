package slim.experiments;

import java.util.Map;

/** Result records made up for tests of the grid and the report. */
final class Synthetic {
    private Synthetic() {}

    static Result result(String model, String type, int layers, int hidden, int keep, String task, String setting, int seed,
                         double accuracy) {
        var cell = new Result.CellInfo("/models/" + model, model, type, layers, hidden, keep, task, setting, seed,
                setting.equals("lm-prompt") ? null : "last");
        var prompts = new Result.Prompts(Map.of("train", new int[] {1, 2}), null, null, 10, 0);
        var curves = new Result.Curves(new double[] {accuracy}, new double[] {0.5}, 1, accuracy, false, accuracy, 0.5);
        var costs = new Result.Costs(1000L * keep + 100, 0, 1, 1, 0, 100, 1, 1);
        return new Result(cell, Protocol.study(), Result.OK, null, prompts, curves, costs);
    }

    /** What a runner returns for a cell without training anything. */
    static Result of(Cell cell) {
        return result(cell.modelName(), "llama", 3, 32, cell.keep(), cell.task().id(), cell.setting().id(), cell.seed(), 0.5);
    }
}
