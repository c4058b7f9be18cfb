package dev.rlkafka.cli;

import dev.rlkafka.policy.bench.PolicyBench;
import dev.rlkafka.policy.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Benchmarks: every figure is a ratio measured in one run on one machine. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that report ratios measured in one run on this machine.",
        subcommands = {BenchCommand.Policy.class, BenchPipelineCommand.class, BenchAlgorithmsCommand.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "policy", mixinStandardHelpOptions = true,
            description = "Sampling tokens/s with the KV cache vs full recompute, training tokens/s, and training "
                    + "FLOP/s as a fraction of this machine's plain matmul FLOP/s. Prints a table, writes JSON.")
    static final class Policy implements Callable<Integer> {
        @Mixin ModelOptions model;

        @Option(names = "--batch", defaultValue = "64", description = "Rows per sampling and training batch (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--prompt-tokens", defaultValue = "4",
                description = "Prompt length; the rest of the context is generated (default: ${DEFAULT-VALUE}).")
        int promptTokens;

        @Option(names = "--repeats", defaultValue = "3", description = "Timed repetitions after a warm-up (default: ${DEFAULT-VALUE}).")
        int repeats;

        @Option(names = "--threads", defaultValue = "1", description = "libtorch intra-op threads (default: ${DEFAULT-VALUE}).")
        int threads;

        @Option(names = "--json", defaultValue = "runs/bench/policy.json", description = "Where to write the JSON (default: ${DEFAULT-VALUE}).")
        Path json;

        @Override
        public Integer call() throws Exception {
            ModelConfig config = model.modelConfig();
            PolicyBench.Result result = PolicyBench.run(
                    new PolicyBench.Config(config, model.device(), batch, promptTokens, repeats, threads, threads));
            System.out.println(result.table());
            if (json.toAbsolutePath().getParent() != null) Files.createDirectories(json.toAbsolutePath().getParent());
            result.writeJson(json);
            System.out.println("JSON: " + json);
            return 0;
        }
    }
}
