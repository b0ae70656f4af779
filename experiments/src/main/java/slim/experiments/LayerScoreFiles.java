package slim.experiments;

import java.awt.Color;
import java.awt.Paint;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import slim.nn.io.AtomicFile;
import slim.nn.model.KeptLayers;
import slim.nn.model.LayerScores;
import slim.nn.model.LayerSelection;

/**
 * What `slim layers` writes: the scores as CSV (one row per metric, start layer and block size),
 * the angular distances as a heatmap of block size against start layer (as Gromov et al. draw
 * them) and BI per layer as a bar chart; and which layers each selection keeps.
 */
public final class LayerScoreFiles {
    public static final String CSV = "layers.csv", HEATMAP = "layers-angular.png", BARS = "layers-bi.png";

    private LayerScoreFiles() {}

    /** Writes the three files into dir, each whole or not at all. */
    public static void write(LayerScores scores, String title, Path dir) {
        System.setProperty("java.awt.headless", "true");
        AtomicFile.writeString(dir.resolve(CSV), csv(scores));
        Figure.save(heatmap(scores, title), dir.resolve(HEATMAP), 800, 600);
        Figure.save(bars(scores, title), dir.resolve(BARS), 800, 450);
    }

    /** metric (bi_all, bi_last, angular_last), start_layer, block_size, value: one row each. */
    static String csv(LayerScores s) {
        StringWriter out = new StringWriter();
        CSVFormat format = CSVFormat.DEFAULT
                .builder()
                .setHeader("metric", "start_layer", "block_size", "value")
                .get();
        try (CSVPrinter csv = new CSVPrinter(out, format)) {
            for (int l = 0; l < s.layers(); l++) csv.printRecord("bi_all", l, 1, number(s.biAll()[l]));
            for (int l = 0; l < s.layers(); l++) csv.printRecord("bi_last", l, 1, number(s.biLast()[l]));
            for (int n = 1; n <= s.layers(); n++) {
                for (int l = 0; l + n <= s.layers(); l++)
                    csv.printRecord("angular_last", l, n, number(s.angular(n, l)));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    private static String number(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }

    /** The layers each selection keeps for k, by name. */
    public static Map<String, KeptLayers> keptBy(LayerScores scores, int k) {
        Map<String, KeptLayers> kept = new LinkedHashMap<>();
        for (LayerSelection s : LayerSelection.values()) kept.put(s.label(), scores.keep(s, k));
        return kept;
    }

    private static JFreeChart heatmap(LayerScores s, String title) {
        DefaultXYZDataset data = new DefaultXYZDataset();
        int cells = s.layers() * (s.layers() + 1) / 2, i = 0;
        double[][] xyz = new double[3][cells];
        for (int n = 1; n <= s.layers(); n++) {
            for (int l = 0; l + n <= s.layers(); l++, i++) {
                xyz[0][i] = l;
                xyz[1][i] = n;
                xyz[2][i] = s.angular(n, l);
            }
        }
        data.addSeries("angular distance", xyz);
        NumberAxis start = integerAxis("start layer l"), size = integerAxis("block size n");
        XYBlockRenderer renderer = new XYBlockRenderer();
        Viridis scale = new Viridis(0, Math.max(1e-9, max(s)));
        renderer.setPaintScale(scale);
        XYPlot plot = new XYPlot(data, start, size, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        JFreeChart chart = new JFreeChart(
                "Angular distance across n layers from l, last token: " + title,
                JFreeChart.DEFAULT_TITLE_FONT.deriveFont(14f),
                plot,
                false);
        NumberAxis legendAxis = new NumberAxis("arccos(cos(h_l, h_l+n)) / pi");
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setAxisLocation(AxisLocation.TOP_OR_RIGHT);
        legend.setMargin(4, 4, 40, 4);
        chart.addSubtitle(legend);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static double max(LayerScores s) {
        double m = 0;
        for (double[] row : s.angular()) for (double v : row) m = Math.max(m, v);
        return m;
    }

    private static NumberAxis integerAxis(String label) {
        NumberAxis axis = new NumberAxis(label);
        axis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        axis.setLowerMargin(0);
        axis.setUpperMargin(0);
        axis.setAutoRangeIncludesZero(false);
        return axis;
    }

    private static JFreeChart bars(LayerScores s, String title) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (int l = 0; l < s.layers(); l++) {
            data.addValue(s.biAll()[l], "all tokens", Integer.valueOf(l));
            data.addValue(s.biLast()[l], "last token", Integer.valueOf(l));
        }
        JFreeChart chart = ChartFactory.createBarChart(
                "Block Influence (1 - cos(input, output)): " + title,
                "layer",
                "BI",
                data,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        chart.getCategoryPlot().setBackgroundPaint(Color.WHITE);
        chart.getCategoryPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        return chart;
    }

    /**
     * A few stops of matplotlib's viridis, interpolated: dark for blocks that change the last token
     * little, light for those that change it most. JFreeChart ships only grey and lookup scales.
     */
    private record Viridis(double lower, double upper) implements PaintScale {
        private static final Color[] STOPS = {
            new Color(0x440154), new Color(0x3b528b), new Color(0x21918c), new Color(0x5ec962), new Color(0xfde725)
        };

        @Override
        public double getLowerBound() {
            return lower;
        }

        @Override
        public double getUpperBound() {
            return upper;
        }

        @Override
        public Paint getPaint(double value) {
            double t = Math.clamp((value - lower) / (upper - lower), 0.0, 1.0) * (STOPS.length - 1);
            int i = Math.min((int) t, STOPS.length - 2);
            double f = t - i;
            Color a = STOPS[i], b = STOPS[i + 1];
            return new Color(
                    (int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
                    (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
                    (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
        }
    }
}
