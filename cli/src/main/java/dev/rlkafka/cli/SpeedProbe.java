package dev.rlkafka.cli;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;

/**
 * How fast this machine is right now: the wall ms for every core to finish the same fixed integer loop at once.
 * A shared cloud machine's speed can halve for minutes (a second core at half the speed of the first was seen
 * here), so {@code bench pipeline} probes before and after each run: a pair whose runs saw different speeds has a
 * ratio that says more about the machine than about the services.
 */
final class SpeedProbe {
    private static final long ITERATIONS = 20_000_000;
    private static final int TAKES = 3;
    private static volatile long sink;   // keeps the JIT from dropping the loop

    private SpeedProbe() {}

    /** The fastest of three takes, each: the slowest core's time for the loop, all cores running it together. */
    static double ms() {
        int cores = Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(cores, r -> {
            Thread t = new Thread(r, "bench-speed-probe");
            t.setDaemon(true);
            return t;
        });
        try {
            double best = Double.POSITIVE_INFINITY;
            for (int take = 0; take < TAKES; take++) {
                long start = System.nanoTime();
                CompletableFuture.allOf(IntStream.range(0, cores)
                        .mapToObj(i -> CompletableFuture.runAsync(SpeedProbe::loop, pool)).toArray(CompletableFuture[]::new)).get();
                best = Math.min(best, (System.nanoTime() - start) / 1e6);
            }
            return best;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing the machine's speed", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("speed probe failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static void loop() {
        long x = 88172645463325252L;
        for (long i = 0; i < ITERATIONS; i++) {   // xorshift64: cheap, not foldable, no memory traffic
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        sink = x;
    }

    /** max/min − 1 of some probes: 0.10 means the slowest saw the machine 10 % slower than the fastest. */
    static double spread(double... probesMs) {
        double min = Double.POSITIVE_INFINITY, max = 0;
        for (double p : probesMs) { min = Math.min(min, p); max = Math.max(max, p); }
        return max / min - 1;
    }
}
