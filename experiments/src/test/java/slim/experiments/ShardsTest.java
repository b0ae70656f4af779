package slim.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import slim.data.Setting;

/** Shards of about equal cost, where round-robin by position gives one shard a whole setting. */
class ShardsTest {
    /** lm-prompt and cls-prompt prompts carry a demonstration per class: four times cls-plain's tokens. */
    static final ToDoubleFunction<Cell> COST = c -> (c.keep() + 1) * (c.setting() == Setting.CLS_PLAIN ? 1 : 4);

    static double[] loads(Shards shards, int n) {
        double[] load = new double[n];
        for (int i = 0; i < n; i++) {
            for (Cell c : shards.cells(new Grid.Shard(i, n))) load[i] += COST.applyAsDouble(c);
        }
        return load;
    }

    static double spread(double[] load) {
        double max = Double.NEGATIVE_INFINITY, min = Double.POSITIVE_INFINITY;
        for (double l : load) {
            max = Math.max(max, l);
            min = Math.min(min, l);
        }
        return max - min;
    }

    @Test
    void balancedShardsTakeAboutTheSameTimeWhereRoundRobinDoesNot() {
        List<Cell> cells = GridTest.cells(); // k 1-3 x 2 tasks x 3 settings x 2 seeds
        int n = 6;
        List<Cell> roundRobinFirst = Shards.equal(cells, n).cells(new Grid.Shard(0, n));
        assertTrue(
                roundRobinFirst.stream().allMatch(c -> c.setting() == Setting.LM_PROMPT),
                "round-robin gives shard 0 of 6 only lm-prompt cells: " + roundRobinFirst);
        double roundRobin = spread(loads(Shards.equal(cells, n), n));

        Shards balanced = Shards.balanced(cells, n, COST);
        double largestCell = cells.stream().mapToDouble(COST).max().orElseThrow();
        double spread = spread(loads(balanced, n));
        assertTrue(spread <= largestCell, "shards differ by at most one cell's cost: " + spread);
        assertTrue(spread < roundRobin / 3, "balanced spread " + spread + " against round-robin's " + roundRobin);
        double shares = 0;
        for (int i = 0; i < n; i++) shares += balanced.share(i);
        assertEquals(1, shares, 1e-9);
    }

    @Test
    void everyTaskComputesTheSamePartition() {
        for (int n : new int[] {1, 2, 4, 7}) {
            Set<String> seen = new HashSet<>();
            List<List<Cell>> first = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Grid.Shard s = new Grid.Shard(i, n);
                List<Cell> shard = Shards.balanced(GridTest.cells(), n, COST).cells(s);
                assertEquals(shard, Shards.balanced(GridTest.cells(), n, COST).cells(s), "deterministic");
                for (Cell c : shard) assertTrue(seen.add(c.id()), c.id() + " is in two shards of " + n);
                first.add(shard);
            }
            assertEquals(GridTest.cells().size(), seen.size(), "every cell is in a shard of " + n);
            for (List<Cell> shard : first) {
                List<Cell> inGridOrder =
                        GridTest.cells().stream().filter(shard::contains).toList();
                assertEquals(inGridOrder, shard, "a shard runs its cells in grid order");
            }
        }
    }
}
