package dev.rlkafka.cli;

import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.task.Tasks;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table and JSON of {@code bench pipeline} from made-up measurements: medians over pairs and seeds, runs that missed the target. */
class BenchPipelineReportTest {
    private static final BenchPipeline.Settings SETTINGS = new BenchPipeline.Settings(Tasks.byName("arithmetic"),
            ModelConfig.DEFAULT, ai.djl.Device.cpu(), 100, 3e-4, 16, 8, 40, 10, 3, 2, List.of(1, 2), 40, 10, 200, 200, 3, 5, false, Path.of("unused"));

    @Test
    void timeToTargetIsTheMedianOverSeedsAndAMissCountsAsSlowest() {
        List<BenchPipeline.ServiceRun> async = List.of(run("a1", 2, 60, 11.7), run("a2", 2, 40, 8.9), run("a3", 2, 40, 9.3));
        List<BenchPipeline.ServiceRun> sync = List.of(run("s1", 0, 40, 13.6), run("s2", 0, -1, 30.0), run("s3", 0, 40, 14.7));

        assertEquals(9.3, BenchPipeline.Result.medianSecondsToTarget(async), 1e-9);
        assertEquals(40, BenchPipeline.Result.medianStepsToTarget(async), 1e-9);
        assertEquals(14.7, BenchPipeline.Result.medianSecondsToTarget(sync), 1e-9, "the miss sorts last, the median is the slower hit");

        String table = BenchPipeline.table(result(async, sync));
        assertTrue(table.contains("staleness 2 / 0, median of 3"), table);
        assertTrue(table.matches("(?s).*wall s to held-out 87\\.5 %.*\\s9\\.3\\s+14\\.7\\s+0\\.633.*"), table);
        assertTrue(table.contains("2: 8.9 (40) / >30.0 (>200)"), table);
        String json = BenchPipeline.json(result(async, sync));
        assertTrue(json.contains("\"ratioSeconds\": 0.6327"), json);
        assertTrue(json.contains("\"reachedStep\": null"), json);
    }

    @Test
    void aMedianThatMissedTheTargetIsNotARatio() {
        List<BenchPipeline.ServiceRun> async = List.of(run("a1", 2, -1, 30), run("a2", 2, -1, 30), run("a3", 2, 40, 9));
        List<BenchPipeline.ServiceRun> sync = List.of(run("s1", 0, 40, 14), run("s2", 0, 40, 14), run("s3", 0, 40, 14));
        String table = BenchPipeline.table(result(async, sync));
        assertTrue(table.matches("(?s).*median of 3\\s+n/a\\s+14\\.0\\s+n/a.*"), table);
        assertTrue(BenchPipeline.json(result(async, sync)).contains("\"ratioSeconds\": null"));
    }

    @Test
    void throughputIsTheMedianPairsRatioAndItsCoresAreShown() {
        // ratios 0.75, 0.95, 0.90 (tokens/s 3000/4000, 3800/4000, 2700/3000): the median is pair 3's
        List<BenchPipeline.Pair> pairs = List.of(pair(3000, 4000), pair(3800, 4000), pair(2700, 3000, 40.0, 52.0, 41.0));
        // the trainer's wait for its batch is its own median over pairs: 30 ms (pairs wait 30, 30, 12)
        BenchPipeline.Result result = new BenchPipeline.Result(SETTINGS, 30, 0.475, 0.875, pairs, latencyRun(), List.of(), List.of(),
                684_449, 1, List.of(4.0));
        assertEquals(0.90, result.throughputRatio(), 1e-9);
        assertEquals(2, result.medianPair());
        String table = BenchPipeline.table(result);
        assertTrue(table.matches("(?s).*in-process loop, median of 3\\s+3000\\s+4000\\s+0\\.900.*"), table);
        assertTrue(table.contains("1: 0.750 (333 / 250)  2: 0.950 (263 / 250)  3: 0.900 (370 / 333)"), table);
        // fastest runs: services 3800 (pair 2) over in-process 4000 (pairs 1 and 2), whichever pairs they came from
        assertEquals(0.95, result.fastestRunsRatio(), 1e-9);
        assertTrue(table.matches("(?s).*fastest run of each side, tokens/s\\s+3800\\s+4000\\s+0\\.950.*"), table);
        assertTrue(table.contains("cores used, services, pair 3:"), table);
        assertTrue(table.matches("(?s).*trainer.s wait for its next batch, ms per step, median\\s+30\\s.*"), table);
        assertTrue(table.contains("(groups dropped as stale), per pair:  1: 30 (4)  2: 30 (4)  3: 12 (0)"), table);
        assertTrue(table.contains("before / between / after:  1: 40/41/40  2: 40/41/40  3: 40/52/41"), table);
        assertTrue(table.contains("more than 10 % during pair(s) 3:"), "52 ms against 40 is 30 % slower: " + table);
        assertTrue(BenchPipeline.json(result).contains("\"medianRatio\": 0.9000"), BenchPipeline.json(result));
    }

    @Test
    void theFastestInProcessRunOfAPairIsItsBaseline() {
        // 1 thread at 3000 tokens/s, 2 threads at 4000: the services' 3600 are 0.90 of the 2-thread run, whatever the order
        var services = new BenchPipeline.Throughput(40, 10, 30_000, 30_000 / 3600.0, CpuUse.Share.NONE);
        var pair = new BenchPipeline.Pair(new BenchPipeline.ServiceRun("throughput", 2, 40, 12, services, 5, List.of(), null,
                Map.of(), Map.of(), 40, 0, List.of()), List.of(inProcessRun(1, 3000), inProcessRun(2, 4000)), List.of(40.0, 40.0, 40.0));
        assertEquals(2, pair.fastestInProcess().threads());
        assertEquals(0.90, pair.ratio(), 1e-9);
        var reversed = new BenchPipeline.Pair(pair.services(), List.of(inProcessRun(2, 4000), inProcessRun(1, 3000)), pair.probeMs());
        assertEquals(2, reversed.fastestInProcess().threads());
        BenchPipeline.Result result = new BenchPipeline.Result(SETTINGS, 30, 0.475, 0.875, List.of(pair), latencyRun(), List.of(), List.of(),
                684_449, 1, List.of(4.0));
        String table = BenchPipeline.table(result);
        assertTrue(table.contains("(the most tokens/s is the baseline):  1: 1 thread 333, 2 threads 250"), table);
        assertTrue(table.contains("cores used, in-process, pair 1, 2 thread(s):"), table);
        String json = BenchPipeline.json(result);
        assertTrue(json.contains("\"baselineThreads\": 2, \"inProcessRuns\": [{\"threads\": 1, "), json);
        assertTrue(json.contains("\"inProcessThreads\": [1, 2]"), json);
    }

    @Test
    void inProcessThreadCountsMustBeDistinctAndPositive() {
        for (List<Integer> bad : List.of(List.<Integer>of(), List.of(0), List.of(2, 2))) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new BenchPipeline.Settings(
                    Tasks.byName("arithmetic"), ModelConfig.DEFAULT, ai.djl.Device.cpu(), 100, 3e-4, 16, 8, 40, 10, 3, 2, bad, 40, 10,
                    200, 200, 3, 5, false, Path.of("unused")));
            assertTrue(e.getMessage().contains("got " + bad), e.getMessage());
        }
    }

    private static BenchPipeline.InProcessRun inProcessRun(int threads, double tokensPerSecond) {
        return new BenchPipeline.InProcessRun(threads, new BenchPipeline.Throughput(40, 10, 30_000, 30_000 / tokensPerSecond, CpuUse.Share.NONE));
    }

    /** Services and in-process over 30 measured steps of 1000 tokens each, at the given tokens/s; a steady machine. */
    private static BenchPipeline.Pair pair(double servicesTokensPerSecond, double inProcessTokensPerSecond) {
        return pair(servicesTokensPerSecond, inProcessTokensPerSecond, 40.0, 41.0, 40.0);
    }

    private static BenchPipeline.Pair pair(double servicesTokensPerSecond, double inProcessTokensPerSecond, Double... probeMs) {
        var services = new BenchPipeline.Throughput(40, 10, 30_000, 30_000 / servicesTokensPerSecond, CpuUse.Share.NONE);
        var inProcess = new BenchPipeline.Throughput(40, 10, 30_000, 30_000 / inProcessTokensPerSecond, CpuUse.Share.NONE);
        double waitMs = probeMs[1] > 50 ? 12 : 30;
        long droppedStale = probeMs[1] > 50 ? 0 : 4;
        return new BenchPipeline.Pair(new BenchPipeline.ServiceRun("throughput", 2, 40, 12, services, waitMs, List.of(), null,
                Map.of(), Map.of(), 40, droppedStale, List.of()), List.of(new BenchPipeline.InProcessRun(1, inProcess)), List.of(probeMs));
    }

    private static BenchPipeline.ServiceRun latencyRun() {
        return new BenchPipeline.ServiceRun("latency", 2, 40, 12, null, Double.NaN, List.of(), null, Map.of(1L, 50L), Map.of(1L, 30L), 40, 0, List.of());
    }

    private static BenchPipeline.Result result(List<BenchPipeline.ServiceRun> async, List<BenchPipeline.ServiceRun> sync) {
        return new BenchPipeline.Result(SETTINGS, 30, 0.475, 0.875, List.of(pair(3000, 4000)), latencyRun(), async, sync,
                684_449, 1, List.of(4.0));
    }

    /** A (b) run; {@code reachedStep} -1: it hit the 200-step cap after {@code seconds} without reaching the target. */
    private static BenchPipeline.ServiceRun run(String name, int staleness, long reachedStep, double seconds) {
        BenchPipeline.Eval reached = reachedStep < 0 ? null : new BenchPipeline.Eval(reachedStep, seconds, 0.9);
        return new BenchPipeline.ServiceRun(name, staleness, reachedStep < 0 ? 200 : reachedStep, seconds, null, Double.NaN,
                reached == null ? List.of() : List.of(reached), reached, Map.of(), Map.of(), 0, 0, List.of());
    }
}
