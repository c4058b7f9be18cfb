package dev.rlkafka.cli;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Where this JVM's CPU went between two {@link #take() snapshots}, in cores, grouped by what each thread serves:
 * the numbers behind "the services compete for the cores" in {@code bench pipeline}. Java threads are counted by
 * name; the rest of the process (JIT compiler, GC, libtorch's OpenMP workers) is what the process used beyond them.
 */
final class CpuUse {
    /** Groups in the order printed; a thread falls in the first group whose rule matches its name. */
    private static final List<Map.Entry<String, Predicate<String>>> GROUPS = List.of(
            Map.entry("trainer publisher", n -> n.startsWith("trainer-") && n.endsWith("-publisher")),
            Map.entry("trainer", n -> n.startsWith("trainer-")),
            Map.entry("generator sampling", n -> n.endsWith("-sampling")),
            Map.entry("generator weights", n -> n.endsWith("-weights")),
            Map.entry("reward-service", n -> n.startsWith("reward-service-StreamThread")),
            Map.entry("clients' I/O", n -> n.startsWith("kafka-producer-network-thread") || n.startsWith("kafka-coordinator-heartbeat")
                    || n.startsWith("kafka-admin-client-thread") || n.startsWith("consumer_background_thread")),
            Map.entry("bench", n -> n.startsWith("bench-")),
            Map.entry("main", n -> n.equals("main")),
            Map.entry("broker and the rest", n -> true));
    static final String NATIVE = "JIT, GC, libtorch workers";

    record Snapshot(long wallNanos, long processCpuNanos, Map<Long, ThreadCpu> threads) {
    }

    record ThreadCpu(String name, long cpuNanos) {
    }

    /** Cores used per group (including {@link #NATIVE}) and in all. */
    record Share(Map<String, Double> cores, double total) {
        static final Share NONE = new Share(Map.of(), Double.NaN);

        /** "trainer 0.78, generator sampling 0.30, ...; total 1.86 of 2" */
        String line() {
            if (cores.isEmpty()) return "n/a";
            return cores.entrySet().stream().filter(e -> e.getValue() >= 0.005)
                    .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue()))
                    .collect(Collectors.joining(", "))
                    + String.format(Locale.ROOT, "; total %.2f of %d", total, Runtime.getRuntime().availableProcessors());
        }

        String json() {
            if (cores.isEmpty()) return "null";
            return cores.entrySet().stream().map(e -> String.format(Locale.ROOT, "\"%s\": %.3f", e.getKey(), e.getValue()))
                    .collect(Collectors.joining(", ", "{", String.format(Locale.ROOT, ", \"total\": %.3f}", total)));
        }
    }

    private CpuUse() {
    }

    static Snapshot take() {
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        Map<Long, ThreadCpu> threads = new HashMap<>();
        for (ThreadInfo info : bean.getThreadInfo(bean.getAllThreadIds())) {
            if (info == null) continue;   // ended since getAllThreadIds
            long cpu = bean.getThreadCpuTime(info.getThreadId());
            if (cpu >= 0) threads.put(info.getThreadId(), new ThreadCpu(info.getThreadName(), cpu));
        }
        return new Snapshot(System.nanoTime(), processCpuNanos(), threads);
    }

    /** From {@code a} to {@code b}; a thread started in between counts from zero, one that ended is missed. */
    static Share between(Snapshot a, Snapshot b) {
        double wall = b.wallNanos() - a.wallNanos();
        if (wall <= 0) return Share.NONE;
        Map<String, Double> cores = new LinkedHashMap<>();
        GROUPS.forEach(g -> cores.put(g.getKey(), 0.0));
        double javaThreads = 0;
        for (Map.Entry<Long, ThreadCpu> e : b.threads().entrySet()) {
            ThreadCpu before = a.threads().get(e.getKey());
            double used = (e.getValue().cpuNanos() - (before == null ? 0 : before.cpuNanos())) / wall;
            javaThreads += used;
            String group = GROUPS.stream().filter(g -> g.getValue().test(e.getValue().name())).findFirst().orElseThrow().getKey();
            cores.merge(group, used, Double::sum);
        }
        if (a.processCpuNanos() < 0 || b.processCpuNanos() < 0) return new Share(cores, javaThreads);
        double total = (b.processCpuNanos() - a.processCpuNanos()) / wall;
        cores.put(NATIVE, Math.max(0, total - javaThreads));
        return new Share(cores, total);
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }
}
