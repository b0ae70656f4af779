package slim.experiments;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Polygon;
import java.awt.Rectangle;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.SVGUtils;
import slim.data.Setting;
import slim.nn.io.AtomicFile;

/**
 * Figure 2 of the study, drawn with JFreeChart (headless): average accuracy against kept layers,
 * a line per setting, model and layer selection.
 */
final class Figure {
    private Figure() {}

    /** One colour per model (and layer selection): matplotlib's tab10. */
    private static final Color[] MODEL_COLOURS = {
        new Color(0x1f77b4),
        new Color(0xff7f0e),
        new Color(0x2ca02c),
        new Color(0xd62728),
        new Color(0x9467bd),
        new Color(0x8c564b),
        new Color(0xe377c2),
        new Color(0x7f7f7f)
    };
    /** One marker per setting, in Setting order: circle, square, triangle. */
    private static final Shape[] SETTING_MARKERS = {
        new Ellipse2D.Double(-4, -4, 8, 8),
        new Rectangle2D.Double(-4, -4, 8, 8),
        new Polygon(new int[] {0, 5, -5}, new int[] {-5, 4, 4}, 3)
    };

    /**
     * The average over tasks at each k as a point with an error bar of one standard deviation over
     * seeds (none with one seed); colour tells the model, the marker the setting. Written as PNG and,
     * beside it with the same name, SVG.
     */
    static void accuracyByLayers(List<Report.Line> lines, Path png) {
        System.setProperty("java.awt.headless", "true");
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        for (Report.Line l : lines) {
            if (l.average().n() == 0) continue;
            String key = l.setting() + " · " + l.modelAndSelection();
            int index = data.indexOf(key);
            YIntervalSeries series = index >= 0 ? data.getSeries(index) : new YIntervalSeries(key);
            if (index < 0) data.addSeries(series);
            double mean = l.average().mean(),
                    std = Double.isNaN(l.average().std()) ? 0 : l.average().std();
            series.add(l.keep(), mean, mean - std, mean + std);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(
                "Average test accuracy against kept layers",
                "kept layers",
                "average accuracy (%), error bars: std over seeds",
                data,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYErrorRenderer renderer = new XYErrorRenderer();
        renderer.setDefaultLinesVisible(true);
        renderer.setDrawXError(false);
        renderer.setCapLength(6);
        List<String> models =
                lines.stream().map(Report.Line::modelAndSelection).distinct().toList();
        for (int s = 0; s < data.getSeriesCount(); s++) {
            String key = data.getSeriesKey(s).toString();
            Setting setting = Setting.parse(key.substring(0, key.indexOf(" · ")));
            String model = key.substring(key.indexOf(" · ") + 3);
            renderer.setSeriesPaint(s, MODEL_COLOURS[models.indexOf(model) % MODEL_COLOURS.length]);
            renderer.setSeriesShape(s, SETTING_MARKERS[setting.ordinal() % SETTING_MARKERS.length]);
            renderer.setSeriesStroke(s, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        save(chart, png, 960, 600);
        String name = png.getFileName().toString();
        Path svg = png.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".svg");
        AtomicFile.write(svg, tmp -> {
            SVGGraphics2D g = new SVGGraphics2D(960, 600);
            chart.draw(g, new Rectangle(960, 600));
            SVGUtils.writeToSVG(tmp.toFile(), g.getSVGElement());
        });
    }

    /** Writes the chart as a PNG, atomically. */
    static void save(JFreeChart chart, Path png, int width, int height) {
        AtomicFile.write(png, tmp -> ChartUtils.saveChartAsPNG(tmp.toFile(), chart, width, height));
    }
}
