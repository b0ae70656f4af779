package slim.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static slim.experiments.cli.Cli.MINILM;
import static slim.experiments.cli.Cli.STORIES;
import static slim.experiments.cli.Cli.args;
import static slim.experiments.cli.Cli.tiny;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import slim.data.Setting;
import slim.data.Task;
import slim.experiments.Cell;
import slim.experiments.Result;
import slim.experiments.ResultFiles;
import slim.experiments.Version;
import slim.nn.Shared;
import slim.nn.io.Checkpoint;
import slim.nn.kernels.CpuKernels;
import slim.nn.model.ModelConfig;
import slim.nn.model.Pooling;

/** train, predict, grid and report through the command line, on stories260K and a tiny protocol. */
class ExperimentCommandsTest {

    @TempDir
    Path tmp;

    static Cli.Run run(String... args) {
        return Cli.run(args);
    }

    static String[] concat(String[] a, String... b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    /** Refused with the exit code (2: usage, 1: the run cannot go on) and a message, before any work. */
    private void refused(int code, String expected, String... args) {
        Path out = tmp.resolve("refused");
        Cli.Run r = run(concat(args, "--out", out.toString()));
        assertEquals(code, r.code(), "exit code for " + String.join(" ", args) + "\n" + r.out() + r.err());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
        assertFalse(Files.exists(out), "refused before any work");
    }

    @Test
    void badInputsAreRefusedBeforeAnyWork() {
        refused(2, "unknown task 'imdb'", args("train --model %s -k 1 --task imdb --setting cls-plain", STORIES));
        refused(
                2,
                "unknown setting 'zero-shot'",
                args("train --model %s -k 1 --task sst2 --setting zero-shot", STORIES));
        refused(1, "cannot keep 9 layers", args("train --model %s -k 9 --task sst2 --setting cls-plain", STORIES));
        refused(1, "lm-prompt needs an LM head", args("train --model %s -k 1 --task sst2 --setting lm-prompt", MINILM));
        refused(
                1,
                "--pooling applies to encoders",
                args("train --model %s -k 1 --task sst2 --setting cls-plain --pooling cls", STORIES));
        refused(
                2,
                "--lr must be a positive number",
                args("train --model %s -k 1 --task sst2 --setting cls-plain --lr -1", STORIES));
        refused(1, "cannot keep 6 layers", args("grid --models %s -k 1,6 --seeds 0", STORIES + "," + MINILM));
        refused(2, "expected i/n", args("grid --models %s --keep 1 --shard 2/2", STORIES));
        refused(2, "--slurm needs --shards N", args("grid --models %s -k 1 --slurm grid.sbatch", STORIES));
        refused(
                2,
                "leave out --shard 1/2",
                args("grid --models %s -k 1 --slurm grid.sbatch --shards 2 --shard 1/2", STORIES));
        refused(2, "go with --slurm FILE", args("grid --models %s -k 1 --shards 2", STORIES));
    }

    /** A save that cannot be written (here its parent is a file; on a full disk likewise) keeps the finished result. */
    @Test
    void aFailedSaveKeepsTheResultAndSaysSo() throws Exception {
        Path blocker = tmp.resolve("not-a-folder");
        Files.writeString(blocker, "");
        Path results = tmp.resolve("results");
        Cli.Run r = run(tiny(
                "train --model %s -k 1 --task trec --setting cls-plain --out %s --save %s",
                STORIES, results, blocker.resolve("model")));
        assertTrue(r.code() != 0, r.out() + r.err());
        assertTrue(
                r.err().contains("training finished and its result is kept in")
                        && r.err().contains("not saved"),
                r.err());
        assertTrue(Files.isRegularFile(results.resolve("stories260K_k1_trec_cls-plain_s0.json")), r.out() + r.err());
        assertTrue(r.out().contains("test accuracy"), r.out());
    }

    @Test
    void aSavedEncoderNamesBertForSequenceClassificationOnlyForThePoolerHead() throws Exception {
        String minilm = Shared.resolve("models", "all-MiniLM-L6-v2").toString();
        Path pooler = tmp.resolve("pooler"), mean = tmp.resolve("mean");
        for (Path save : List.of(pooler, mean)) {
            Cli.Run r = run(tiny(
                    "train --model %s -k 1 --task sst2 --setting cls-plain --pooling %s --out %s --save %s",
                    minilm, save == pooler ? "cls-pooler" : "mean", tmp.resolve("results"), save));
            assertEquals(0, r.code(), r.out() + r.err());
        }
        JsonNode config =
                new ObjectMapper().readTree(pooler.resolve("config.json").toFile());
        assertEquals(
                "BertForSequenceClassification",
                config.get("architectures").get(0).asText());
        assertEquals("positive", config.get("id2label").get("1").asText());
        try (Checkpoint ckpt = Checkpoint.open(pooler)) {
            for (String t : List.of(
                    "bert.embeddings.word_embeddings.weight",
                    "bert.pooler.dense.weight",
                    "bert.pooler.dense.bias",
                    "classifier.weight",
                    "classifier.bias")) {
                assertTrue(ckpt.has(t), t + " in " + ckpt.names());
            }
        }
        assertTrue(run("predict", pooler.toString(), "a fine film").out().contains("\t"));
        JsonNode meanConfig =
                new ObjectMapper().readTree(mean.resolve("config.json").toFile());
        assertFalse(meanConfig.has("architectures"), "no class computes a mean-pooled head: " + meanConfig);
        assertTrue(Files.readString(mean.resolve("README.md")).contains("random head"));
    }

    @Test
    void trainSavesAModelThatPredictUses() throws Exception {
        Path save = tmp.resolve("trec-k1");
        Cli.Run r = run(tiny(
                "train --model %s -k 1 --task trec --setting cls-plain --seed 3 --out %s --save %s",
                STORIES, tmp.resolve("results"), save));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("test accuracy"), r.out());
        assertTrue(Files.isRegularFile(tmp.resolve("results/stories260K_k1_trec_cls-plain_s3.json")));
        assertTrue(Files.isRegularFile(save.resolve("model.safetensors")));
        resultExplainsItself(tmp.resolve("results/stories260K_k1_trec_cls-plain_s3.json"));
        assertTrue(Files.readString(save.resolve("config.json")).contains("\"num_labels\" : 6"));
        JsonNode config =
                new ObjectMapper().readTree(save.resolve("config.json").toFile());
        assertEquals(
                "LlamaForSequenceClassification",
                config.get("architectures").get(0).asText(),
                "the class that reads the last token through `score`");
        assertEquals("ENTY", config.get("id2label").get("1").asText());
        assertEquals(5, config.get("label2id").get("NUM").asInt());
        assertTrue(config.get("pad_token_id").canConvertToInt());
        assertEquals("float32", config.get("torch_dtype").asText());
        try (Checkpoint ckpt = Checkpoint.open(save)) {
            assertTrue(
                    ckpt.has("model.layers.0.self_attn.q_proj.weight") && ckpt.has("score.weight"),
                    "names as LlamaForSequenceClassification saves them: " + ckpt.names());
        }
        JsonNode prompt =
                new ObjectMapper().readTree(save.resolve("slim-prompt.json").toFile());
        assertEquals("trec", prompt.get("task").asText());
        assertEquals("Question: {text}\nAnswer Type:", prompt.get("template").asText(), "cls-plain: no demonstrations");
        assertEquals(64, prompt.get("max_prompt_tokens").asInt(), "the limit it was trained with");

        Cli.Run p = run(
                "predict",
                save.toString(),
                "--task",
                "trec",
                "How far is it from Denver to Aspen?",
                "Who wrote Hamlet?");
        assertEquals(0, p.code(), p.err());
        String[] lines = p.out().strip().split("\n");
        assertEquals(2, lines.length, p.out());
        for (String line : lines) {
            String[] f = line.split("\t");
            assertTrue(Task.TREC.labels().contains(f[0]), line);
            double prob = Double.parseDouble(f[1]);
            assertTrue(prob >= 1.0 / 6 && prob <= 1, "the arg-max label's probability: " + line);
        }
        // every label's probability, as text and as JSON Lines, for texts from a file and from stdin
        Path texts = tmp.resolve("texts.txt");
        Files.writeString(texts, "Who wrote Hamlet?\nWhere is Aspen?\n");
        Cli.Run each = run("predict", save.toString(), "--all", "--input", texts.toString());
        assertEquals(0, each.code(), each.err());
        List<String> eachLines = each.out().lines().toList();
        assertEquals(2, eachLines.size(), each.out());
        String[] fields = eachLines.getFirst().split("\t"), before = lines[1].split("\t");
        assertEquals(
                List.of(before[0], before[1], "Who wrote Hamlet?"),
                List.of(fields[0], fields[1], fields[3]),
                "the same label and probability as from the command line");
        String[] probs = fields[2].split(" ");
        assertEquals(6, probs.length, eachLines.getFirst());
        double sum = 0;
        for (String kv : probs) sum += Double.parseDouble(kv.substring(kv.indexOf('=') + 1));
        assertEquals(1, sum, 1e-3, eachLines.getFirst());

        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream(Files.readAllBytes(texts)));
            Cli.Run json = run("predict", save.toString(), "--json", "-i", "-");
            assertEquals(0, json.code(), json.err());
            List<String> jsonLines = json.out().lines().toList();
            assertEquals(2, jsonLines.size(), json.out());
            JsonNode first = new ObjectMapper().readTree(jsonLines.getFirst());
            assertEquals("Who wrote Hamlet?", first.get("text").asText());
            assertEquals(lines[1].split("\t")[0], first.get("label").asText());
            assertEquals(
                    Double.parseDouble(lines[1].split("\t")[1]),
                    first.get("probability").asDouble(),
                    1e-4);
            assertEquals(6, first.get("probabilities").size());
            assertEquals(
                    first.get("probability").asDouble(),
                    first.get("probabilities").get(first.get("label").asText()).asDouble());
        } finally {
            System.setIn(stdin);
        }
        // a prompt over the trained limit is shortened as in training, and said to be
        String longText = "Why is the sky blue " + "and so very far away ".repeat(40) + "?";
        Cli.Run cut = run("predict", save.toString(), "--json", "Who wrote Hamlet?", longText);
        assertEquals(0, cut.code(), cut.err());
        List<String> cutLines = cut.out().lines().toList();
        assertFalse(
                new ObjectMapper().readTree(cutLines.get(0)).get("shortened").asBoolean(), cut.out());
        assertTrue(new ObjectMapper().readTree(cutLines.get(1)).get("shortened").asBoolean(), cut.out());
        assertTrue(cut.err().contains("1 of 2 prompts were longer than the 64 tokens"), cut.err());

        Cli.Run none = run("predict", save.toString());
        assertEquals(2, none.code());
        assertTrue(none.err().contains("Nothing to classify"), none.err());

        Cli.Run wrong = run("predict", save.toString(), "--task", "sst2", "great");
        assertEquals(1, wrong.code());
        assertTrue(wrong.err().contains("fine-tuned for trec"), wrong.err());
    }

    /** Which slim made it and when, the prompt limit that applied, and every answer beside it. */
    static void resultExplainsItself(Path file) throws Exception {
        JsonNode r = new ObjectMapper().readTree(file.toFile());
        assertEquals(Result.SCHEMA_VERSION, r.get("schema_version").asInt());
        assertEquals(Version.CURRENT.commit(), r.get("run").get("commit").asText());
        assertEquals(Version.CURRENT.version(), r.get("run").get("slim_version").asText());
        Instant started = Instant.parse(r.get("run").get("started").asText());
        assertFalse(Instant.parse(r.get("run").get("finished").asText()).isBefore(started));
        // The tests run on the CPU backend (the default), and the result says so, with the vector width it used.
        assertEquals(new CpuKernels().name(), r.get("run").get("backend").asText());
        assertEquals(64, r.get("prompts").get("prompt_limit").asInt(), "--max-prompt-tokens 64 of the model's 512");
        assertEquals("last", r.get("cell").get("pooling").asText());

        List<CSVRecord> rows = CSVFormat.DEFAULT
                .builder()
                .setHeader()
                .get()
                .parse(Files.newBufferedReader(ResultFiles.predictionsFile(file)))
                .getRecords();
        List<String> classes = Task.TREC.labels();
        for (String part : List.of("val", "test")) {
            List<CSVRecord> answers =
                    rows.stream().filter(x -> x.get("part").equals(part)).toList();
            JsonNode dataRows = r.get("prompts").get("split").get(part);
            assertEquals(dataRows.size(), answers.size(), part);
            int right = 0;
            for (int i = 0; i < answers.size(); i++) {
                CSVRecord a = answers.get(i);
                assertEquals(i, Integer.parseInt(a.get("index")));
                assertEquals(dataRows.get(i).asInt(), Integer.parseInt(a.get("row")));
                double sum = 0, best = -1;
                String predicted = null;
                for (String c : classes) {
                    double p = Double.parseDouble(a.get("p_" + c));
                    sum += p;
                    if (p > best) {
                        best = p;
                        predicted = c;
                    }
                }
                assertEquals(1, sum, 1e-4, a.toString());
                assertEquals(predicted, a.get("predicted"), "the arg-max: " + a);
                if (a.get("label").equals(a.get("predicted"))) right++;
            }
            double accuracy = (double) right / answers.size();
            JsonNode curves = r.get("curves");
            assertEquals(
                    part.equals("val")
                            ? curves.get("best_val_accuracy").asDouble()
                            : curves.get("test_accuracy").asDouble(),
                    accuracy,
                    1e-12,
                    part + " accuracy from the answers");
        }
    }

    @Test
    void anEncodersClsPoolingIsRecordedAsTheOptionSpellsIt() {
        Cell cell = Cell.of(Path.of(MINILM), 1, Task.SST2, Setting.CLS_PLAIN, 0, Pooling.parse("cls"));
        assertEquals(
                "cls",
                Result.CellInfo.of(cell, ModelConfig.read(Path.of(MINILM)), null)
                        .pooling());
    }

    @Test
    void gridResumesAndReportWritesTablesAndFigure() throws Exception {
        Path out = tmp.resolve("grid");
        String[] grid =
                tiny("grid --model %s -k 1,2 --tasks trec --settings cls-plain --seeds 0,1 --out %s", STORIES, out);
        Cli.Run first = run(concat(grid, "--shard", "0/2"));
        assertEquals(0, first.code(), first.err());
        assertTrue(
                first.out().contains("4 cells in the grid, 2 in this shard: 0 were done already, 2 ran now"),
                first.out());
        Cli.Run half = run("grid", "--status", out.toString());
        assertEquals(0, half.code(), half.err());
        assertEquals(
                2, half.out().lines().filter(l -> l.startsWith("stories260K")).count(), half.out());
        String total =
                half.out().lines().filter(l -> l.startsWith("all ")).findFirst().orElseThrow();
        assertEquals(List.of("all", "2", "0", "0", "2"), List.of(total.trim().split("\\s+")), half.out());
        assertTrue(half.out().contains("To run the 2 unfinished cells"), half.out());
        assertTrue(half.out().contains("slim grid --models " + Path.of(STORIES).toAbsolutePath()), half.out());
        // with the grid's options instead of its plan, and no --out: the command still finishes this folder
        Cli.Run given = run(
                tiny("grid --status %s --model %s -k 1,2 --tasks trec --settings cls-plain --seeds 0,1", out, STORIES));
        assertEquals(0, given.code(), given.err());
        assertTrue(given.out().contains("To run the 2 unfinished cells"), given.out());
        assertTrue(given.out().contains("--out " + out.toAbsolutePath()), given.out());
        Cli.Run all = run(grid);
        assertEquals(0, all.code(), all.err());
        assertTrue(run("grid", "--status", out.toString()).out().contains("Every cell is done"));
        assertTrue(
                all.out().contains("4 cells in the grid, 4 in this shard: 2 were done already, 2 ran now"), all.out());

        Cli.Run report = run("report", out.toString());
        assertEquals(0, report.code(), report.err());
        assertTrue(report.out().contains("### Table 3: cls-plain"), report.out());
        assertTrue(report.out().contains("| stories260K | 2 |"), report.out());
        assertTrue(Files.size(out.resolve("report/figure2.png")) > 1000);
        assertTrue(Files.readString(out.resolve("report/tables.csv"))
                .contains("stories260K,last,first,0,1,cls-plain,trec,"));
    }
}
