package slim.experiments;

import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import slim.nn.io.AtomicFile;

/**
 * Figure 2 of the study, drawn with JFreeChart (headless): average accuracy against kept layers,
 * a line per setting, model and layer selection.
 */
final class Figure {
    private Figure() {}

    /** lm-prompt, cls-prompt, cls-plain: blue, orange, green (matplotlib's first three). */
    private static final Color[] SETTING_COLOURS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c)};
    private static final float[][] DASHES = {{1f, 0f}, {8f, 5f}, {2f, 4f}, {10f, 4f, 2f, 4f}};

    static void accuracyByLayers(List<Report.Line> lines, Path png) {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (Report.Line l : lines) {
            if (l.average().n() == 0) continue;
            String key = l.setting() + " · " + l.modelAndSelection();
            XYSeries series;
            int index = data.getSeriesIndex(key);
            if (index >= 0) {
                series = data.getSeries(index);
            } else {
                series = new XYSeries(key);
                data.addSeries(series);
            }
            series.add(l.keep(), l.average().mean());
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Average test accuracy against kept layers",
                "kept layers", "average accuracy (%)", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        // colour tells the setting, the dash pattern the model and how its layers were chosen
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        List<String> models = lines.stream().map(Report.Line::modelAndSelection).distinct().toList();
        for (int s = 0; s < data.getSeriesCount(); s++) {
            String key = data.getSeriesKey(s).toString();
            String setting = key.substring(0, key.indexOf(" · "));
            String model = key.substring(key.indexOf(" · ") + 3);
            renderer.setSeriesPaint(s, SETTING_COLOURS[Math.max(0, Report.SETTINGS.indexOf(setting))]);
            float[] dash = DASHES[models.indexOf(model) % DASHES.length];
            renderer.setSeriesStroke(s, new BasicStroke(2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, dash, 0f));
        }
        plot.setRenderer(renderer);
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        ((org.jfree.chart.axis.NumberAxis) plot.getDomainAxis()).setStandardTickUnits(
                org.jfree.chart.axis.NumberAxis.createIntegerTickUnits());
        save(chart, png, 960, 600);
    }

    /** Writes the chart as a PNG, atomically. */
    static void save(JFreeChart chart, Path png, int width, int height) {
        AtomicFile.write(png, tmp -> ChartUtils.saveChartAsPNG(tmp.toFile(), chart, width, height));
    }
}
